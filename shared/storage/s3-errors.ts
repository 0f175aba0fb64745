import { BuildfleetError, toBuildfleetError } from '../errors/index.ts';

// HeadObject answers a missing key with a bare 404 ('NotFound'); the other calls say 'NoSuchKey'.
const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound']);

/** Maps an error of the S3 client to the store's error codes (see artifact-store.ts). */
export function s3StoreError(error: unknown, context: Record<string, unknown>): BuildfleetError {
  if (error instanceof BuildfleetError) return error;
  if (error instanceof Error && error.name === 'AbortError') return toBuildfleetError(error);
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message || name : String(error);
  const status = httpStatusOf(error);
  if (NOT_FOUND_NAMES.has(name)) {
    return new BuildfleetError('storage-not-found', `no artifact ${JSON.stringify(context.key ?? '')}`, {
      cause: error,
      context,
    });
  }
  // No status: the request never got an answer (connection refused, reset, timed out).
  // 5xx, 429 and 503 SlowDown are the server's trouble; any other 4xx is a request it refused
  // (credentials, missing bucket, policy) that will be refused again.
  const retriable = status === undefined || status >= 500 || status === 429;
  return new BuildfleetError('storage-unavailable', `S3 store: ${name}: ${message}`, {
    cause: error,
    retriable,
    context: { ...context, s3Error: name, httpStatus: status },
  });
}

/** The HTTP status of the S3 answer that failed; undefined when no answer came. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}
