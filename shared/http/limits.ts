/** The limits every buildfleet HTTP server puts on a request (docs/api.md, "Limits"). */
import { BuildfleetError } from '../errors/index.ts';

export interface HttpLimits {
  /**
   * A request body larger than this is refused with 413 (a route may set its own limit).
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes: number;
  /** A request target (path and query) longer than this is refused with 414. @default 8192 */
  maxUrlBytes: number;
  /**
   * The request line and headers together may hold this many bytes (node's `maxHeaderSize`);
   * beyond it the request is refused with 431 (414 when it is the request line that overflowed).
   * @default 16384
   */
  maxHeaderBytes: number;
  /** The headers must have arrived within this time (node's `headersTimeout`), else 408. @default 30000 */
  headersTimeoutMs: number;
  /**
   * The whole request, headers and body, must have arrived within this time (node's
   * `requestTimeout`), else 408. Responses that stream (followed logs, events) are not bounded by it.
   * @default 120000
   */
  requestTimeoutMs: number;
}

export const HttpLimitDefaults: Readonly<HttpLimits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxUrlBytes: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
});

/** Fills the defaults and checks that the limits fit together. */
export function compileHttpLimits(partial: Partial<HttpLimits> = {}): HttpLimits {
  const limits: HttpLimits = { ...HttpLimitDefaults, ...definedOnly(partial) };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new BuildfleetError(
        'config-invalid',
        `http limit ${key} must be a positive whole number, got ${String(value)}`,
        {
          context: { key },
        },
      );
    }
  }
  // node refuses a server whose headersTimeout exceeds its requestTimeout
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) limits.headersTimeoutMs = limits.requestTimeoutMs;
  return limits;
}

function definedOnly(partial: Partial<HttpLimits>): Partial<HttpLimits> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
}
