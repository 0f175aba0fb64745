import { BuildfleetError } from '../errors/index.ts';

/**
 * Artifact keys: the one rule both stores apply, so that a key valid for S3 is a safe relative
 * path for the filesystem store (nothing can resolve outside its root) and both agree on what
 * exists.
 *
 * A key is '/'-separated segments: relative (no leading '/'), no empty segments ('a//b', a
 * trailing '/'), no '.' or '..' segments, no backslash, no control characters (NUL included),
 * at most 255 UTF-8 bytes per segment (a file name) and 1024 in all (S3's limit). Segments
 * starting with '.~' are reserved for the filesystem store's in-flight writes.
 */
export const MAX_KEY_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;
export const RESERVED_SEGMENT_PREFIX = '.~';

// C0 controls and DEL: NUL ends a C path; the others break S3's XML listings and log lines.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Why `key` is not a valid key, or undefined when it is. Pure. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'is empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  if (key.startsWith('/')) return 'starts with "/" (keys are relative)';
  if (key.includes('\\')) return 'contains a backslash';
  if (CONTROL_CHARACTER.test(key)) return 'contains a control character';
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'has an empty segment';
  if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  if (segment.startsWith(RESERVED_SEGMENT_PREFIX)) return `has a segment starting with "${RESERVED_SEGMENT_PREFIX}"`;
  if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES)
    return `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}

/** Returns `key` when valid; throws BuildfleetError 'key-invalid' naming the problem otherwise. */
export function validateKey(key: string): string {
  const problem = typeof key === 'string' ? keyProblem(key) : 'is not a string';
  if (problem !== undefined) {
    throw new BuildfleetError('key-invalid', `artifact key ${JSON.stringify(key)} ${problem}`, { context: { key } });
  }
  return key;
}

/**
 * A listing prefix: '' (everything), or a key, optionally followed by '/' ('builds/42/' lists
 * that "directory"; 'builds/4' also matches 'builds/42/x'). Returns it or throws 'key-invalid'.
 */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const problem = typeof prefix === 'string' ? prefixProblem(prefix) : 'is not a string';
  if (problem !== undefined) {
    throw new BuildfleetError('key-invalid', `artifact key prefix ${JSON.stringify(prefix)} ${problem}`, {
      context: { prefix },
    });
  }
  return prefix;
}

function prefixProblem(prefix: string): string | undefined {
  if (prefix.startsWith('/')) return 'starts with "/" (keys are relative)';
  return keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/** S3's listing order: ascending by UTF-8 bytes (not JavaScript's UTF-16 string order). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
