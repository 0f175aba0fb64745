import { createHash } from 'node:crypto';

/**
 * The buildId of one target of one submission: a UUID derived from the submitId and the build
 * key. A submission handled twice (the scheduler restarted before committing its offset) gives
 * the same ids, so the second pass finds the builds of the first and adds nothing.
 */
export function buildIdOf(submitId: string, buildKey: string): string {
  const hex = createHash('sha256').update(`${submitId}\n${buildKey}`).digest('hex');
  // Shaped as an RFC 9562 version 8 (custom) UUID.
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
