import { randomBytes } from 'node:crypto';

/**
 * A name no other test (or earlier run) uses: `<prefix>-<12 hex chars>`. Lower case letters,
 * digits and dashes only, so it is valid as a Kafka topic or group, an S3 bucket (keep the prefix
 * under 50 characters) and a directory name.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
