/**
 * The closed list of error codes. Every error a buildfleet component raises or reports carries
 * one of these; callers branch on `code`, never on message text.
 * `retriable` is the default for the code: an infrastructure hiccup may be retried, a bad input
 * or a failed build may not.
 */
export const ErrorCodes = {
  // configuration and input
  'config-invalid': { retriable: false },
  'message-invalid': { retriable: false },
  'metadata-invalid': { retriable: false },
  /** A submission names a target its package does not declare. */
  'target-unknown': { retriable: false },
  'key-invalid': { retriable: false },
  usage: { retriable: false },
  'webhook-signature-invalid': { retriable: false },
  'request-invalid': { retriable: false },
  /** An HTTP request without a valid token where one is needed (missing, unknown, revoked): 401. */
  'auth-required': { retriable: false },
  /** An HTTP request whose principal may not do this (role, project), or from a foreign Host or Origin: 403. */
  forbidden: { retriable: false },
  /** Too many event streams or followed logs open (of one client, or in all): 429; closing one helps. */
  'too-many-streams': { retriable: true },
  'build-unknown': { retriable: false },
  'not-found': { retriable: false },
  /** A service is asked for something that needs the sources repo, and has none configured (GET /api/graph). */
  'sources-unconfigured': { retriable: false },
  // outside systems
  'bus-unavailable': { retriable: true },
  'bus-timeout': { retriable: true },
  'api-unavailable': { retriable: true },
  'bus-closed': { retriable: false },
  'topic-missing': { retriable: false },
  /** The brokers refused the bus credentials: wrong password, unknown user, none for a SASL listener. */
  'bus-auth-failed': { retriable: false },
  /** The bus principal has no ACL for this topic, group or cluster operation. */
  'bus-not-authorised': { retriable: false },
  /** The TLS handshake with a broker failed: unknown CA, a name the certificate lacks, no TLS there. */
  'bus-tls-failed': { retriable: false },
  'storage-unavailable': { retriable: true },
  'storage-not-found': { retriable: false },
  'source-unavailable': { retriable: true },
  'source-commit-missing': { retriable: false },
  'source-path-missing': { retriable: false },
  'engine-unavailable': { retriable: true },
  // processes and builds
  'exec-failed': { retriable: false },
  'exec-timeout': { retriable: false },
  aborted: { retriable: false },
  'build-failed': { retriable: false },
  /** A dependency (one of our own packages this build needs) failed, so this build never ran. */
  'dependency-failed': { retriable: false },
  /** A build dependency that neither our packages nor the dist's repositories satisfy. */
  'dependency-unresolvable': { retriable: false },
  /** Packages of one batch need each other: none can be built first (`buildfleet build --ignore-deps`). */
  'dependency-cycle': { retriable: false },
  'kind-unsupported': { retriable: false },
  'buildroot-failed': { retriable: true },
  'upload-failed': { retriable: true },
  'lease-expired': { retriable: true },
  'artifact-missing': { retriable: false },
  'checksum-mismatch': { retriable: false },
  'wait-timeout': { retriable: false },
  'publish-failed': { retriable: true },
  'signing-failed': { retriable: false },
  'infra-failed': { retriable: true },
  'shutdown-timeout': { retriable: false },
  internal: { retriable: false },
} as const satisfies Record<string, { retriable: boolean }>;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCodes, value);
}
