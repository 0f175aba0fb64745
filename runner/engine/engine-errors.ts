import { BuildfleetError } from '../../shared/errors/index.ts';

/** Socket errors meaning nobody answers at the engine's address. */
const UNREACHABLE_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EACCES',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/** The HTTP status of an engine answer, as docker-modem attaches it to its errors. */
export function engineStatusCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
  return typeof error.statusCode === 'number' ? error.statusCode : undefined;
}

function socketErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** The engine's own message (docker-modem puts the JSON body's `message` on `json`). */
export function engineMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'json' in error) {
    const json: unknown = error.json;
    if (typeof json === 'object' && json !== null && 'message' in json && typeof json.message === 'string') {
      return json.message;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Turns what dockerode threw into a BuildfleetError: no answer -> 'engine-unavailable', the
 * caller's abort -> 'aborted', any other engine answer -> 'infra-failed'. `what` names the call.
 */
export function toEngineError(error: unknown, what: string, context: Record<string, unknown> = {}): BuildfleetError {
  if (error instanceof BuildfleetError) return error;
  if (isAbortError(error)) return new BuildfleetError('aborted', `${what}: aborted`, { cause: error, context });
  const socketCode = socketErrorCode(error);
  if (socketCode !== undefined && UNREACHABLE_CODES.has(socketCode)) {
    return new BuildfleetError('engine-unavailable', `${what}: the container engine does not answer (${socketCode})`, {
      cause: error,
      context: { ...context, socketCode },
    });
  }
  const statusCode = engineStatusCode(error);
  return new BuildfleetError('infra-failed', `${what}: ${engineMessage(error)}`, {
    cause: error,
    context: { ...context, statusCode: statusCode ?? null },
  });
}
