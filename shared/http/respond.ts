/**
 * JSON answers and error answers, for every HTTP server of buildfleet: an error is
 * `{ error: { code, message } }` with the status of its code (or of the HttpError that carries one).
 */
import type { ServerResponse } from 'node:http';
import { BuildfleetError, toBuildfleetError, type BuildfleetErrorOptions, type ErrorCode } from '../errors/index.ts';

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** HTTP statuses of the error codes a request can meet (docs/api.md); any other code is 500. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  'request-invalid': 400,
  'message-invalid': 400,
  'key-invalid': 400,
  usage: 400,
  'webhook-signature-invalid': 401,
  'auth-required': 401,
  forbidden: 403,
  'too-many-streams': 429,
  'build-unknown': 404,
  'not-found': 404,
  'storage-not-found': 404,
  'bus-unavailable': 503,
  'bus-timeout': 503,
  'bus-closed': 503,
  'topic-missing': 503,
  'storage-unavailable': 503,
  'sources-unconfigured': 503,
  'source-unavailable': 503,
  'source-commit-missing': 404,
};

export function statusOf(code: ErrorCode): number {
  return STATUS_OF[code] ?? 500;
}

/**
 * An error whose HTTP status is not the one of its code: the protocol-level refusals (405, 413,
 * 414, 415, 431...) keep a code from the closed list (`request-invalid`, `not-found`) and say
 * which refusal it is by their status.
 */
export class HttpError extends BuildfleetError {
  readonly status: number;

  constructor(status: number, code: ErrorCode, message: string, options: BuildfleetErrorOptions = {}) {
    super(code, message, options);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** The status an error is answered with. */
export function errorStatus(error: BuildfleetError): number {
  return error instanceof HttpError ? error.status : statusOf(error.code);
}

/**
 * `{ error: { code, message, field? } }` with the status of the error; `field` names the body
 * field or query parameter that was refused (`targets[0].arch`, `state`) when the error says
 * which. A stream already started is cut.
 */
export function sendError(response: ServerResponse, error: unknown, status?: number): void {
  const failure = toBuildfleetError(error);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const field = fieldOf(failure);
  sendJson(response, status ?? errorStatus(failure), {
    error: { code: failure.code, message: failure.message, ...(field === undefined ? {} : { field }) },
  });
}

function fieldOf(error: BuildfleetError): string | undefined {
  const named: unknown = error.context.field ?? error.context.parameter;
  return typeof named === 'string' && named !== '' ? named : undefined;
}
