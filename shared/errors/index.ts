import { ErrorCodes, type ErrorCode } from './codes.ts';

export { ErrorCodes, isErrorCode, type ErrorCode } from './codes.ts';

export interface BuildfleetErrorOptions {
  cause?: unknown;
  /** Overrides the code's default. */
  retriable?: boolean;
  /** Plain data that helps a reader locate the problem (key, topic, file, field...). */
  context?: Record<string, unknown>;
}

/** The one error type of buildfleet: a code from a closed list, a retriable flag, a cause and context. */
export class BuildfleetError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: BuildfleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BuildfleetError';
    this.code = code;
    this.retriable = options.retriable ?? ErrorCodes[code].retriable;
    this.context = options.context ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; retriable: boolean; context: Record<string, unknown> } {
    return { code: this.code, message: this.message, retriable: this.retriable, context: this.context };
  }
}

export function isBuildfleetError(error: unknown, code?: ErrorCode): error is BuildfleetError {
  return error instanceof BuildfleetError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a BuildfleetError, keeping an existing one as it is. */
export function toBuildfleetError(error: unknown, fallback: ErrorCode = 'internal'): BuildfleetError {
  if (error instanceof BuildfleetError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new BuildfleetError('aborted', error.message || 'aborted', { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BuildfleetError(fallback, message, { cause: error });
}

/** Throws a BuildfleetError('aborted') carrying the signal's reason when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new BuildfleetError('aborted', reasonText(signal.reason), { cause: signal.reason });
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return 'aborted';
}
