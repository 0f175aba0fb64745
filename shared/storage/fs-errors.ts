import { BuildfleetError, toBuildfleetError } from '../errors/index.ts';

/** A path (or one of its parents) is not there, or a parent is a file. */
export function isMissing(error: unknown): boolean {
  const code = errnoOf(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function notFound(context: Record<string, unknown>): BuildfleetError {
  return new BuildfleetError('storage-not-found', `no artifact ${describeKey(context)}`, { context });
}

// Reading a key whose path is a directory (the key only prefixes other keys) finds nothing, as on S3.
const NOT_FOUND_ON_READ = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
// Writing 'a/b' when 'a' is a file, or 'a' when 'a/' holds keys: the keys do not form a tree.
const TREE_CONFLICT_ON_WRITE = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENOTEMPTY']);
// The store's directory cannot be used as configured; trying again will not help.
const NOT_RETRIABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Maps a filesystem error to the store's error codes (see artifact-store.ts). */
export function fsStoreError(
  error: unknown,
  context: Record<string, unknown>,
  operation: 'read' | 'write' = 'read',
): BuildfleetError {
  if (error instanceof BuildfleetError) return error;
  if (error instanceof Error && error.name === 'AbortError') return toBuildfleetError(error);
  const code = errnoOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === undefined) {
    // Not the filesystem: the body stream the caller handed to put() failed.
    return new BuildfleetError('upload-failed', `artifact body failed: ${message}`, { cause: error, context });
  }
  if (operation === 'read' && NOT_FOUND_ON_READ.has(code)) {
    return new BuildfleetError('storage-not-found', `no artifact ${describeKey(context)}`, { cause: error, context });
  }
  if (operation === 'write' && TREE_CONFLICT_ON_WRITE.has(code)) {
    return new BuildfleetError(
      'key-invalid',
      `artifact key ${describeKey(context)} conflicts with an existing key (one cannot be both a file and a directory)`,
      { cause: error, context },
    );
  }
  return new BuildfleetError('storage-unavailable', `filesystem store: ${message}`, {
    cause: error,
    context: { ...context, errno: code },
    retriable: !NOT_RETRIABLE.has(code),
  });
}

function describeKey(context: Record<string, unknown>): string {
  return JSON.stringify(context.key ?? context.prefix ?? '');
}

/** The errno name of a failed system call ('ENOENT'...); undefined for other errors. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('syscall' in error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
