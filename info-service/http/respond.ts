/** Small pieces every route uses: JSON answers, error answers, reading a JSON body. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BuildfleetError, toBuildfleetError, type ErrorCode } from '../../shared/errors/index.ts';

/** Bodies larger than this are refused (400): submissions and cancels are small. */
export const MAX_BODY_BYTES = 1024 * 1024;

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

/** `{ error: { code, message } }` with the status of the code; a stream already started is cut. */
export function sendError(response: ServerResponse, error: unknown, status?: number): void {
  const failure = toBuildfleetError(error);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const code = statusOf(failure.code);
  sendJson(response, status ?? code, { error: { code: failure.code, message: failure.message } });
}

/** Reads the body as JSON; an empty body is `undefined`. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new BuildfleetError('request-invalid', `the body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BuildfleetError('request-invalid', `the body is not valid JSON: ${toBuildfleetError(error).message}`);
  }
}
