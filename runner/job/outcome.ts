import { toBuildfleetError } from '../../shared/errors/index.ts';
import type { Artifact, BuiltAgainst, Durations, ErrorInfo } from '../../shared/messages/index.ts';

/** Why a build's AbortSignal fired: a cancel command, or the runner shutting down. */
export type AbortCause = { kind: 'cancel'; reason: string } | { kind: 'shutdown' };

export type JobOutcome =
  | {
      state: 'succeeded';
      artifacts: Artifact[];
      durations: Durations;
      logKey: string;
      /** Our own packages the buildroot installed (build.event builtAgainst). */
      builtAgainst?: BuiltAgainst[];
    }
  | { state: 'failed' | 'timed-out' | 'cancelled'; error: ErrorInfo; durations: Durations; logKey?: string }
  /**
   * Shutdown: no end event; the lease runs out and the scheduler dispatches the build again (or
   * fails it with `lease-expired` when it was the last attempt).
   */
  | { state: 'handed-back'; durations: Durations; logKey?: string };

/**
 * Pure: the end state of a build from what stopped it. A cancel ends `cancelled`, a shutdown
 * hands the build back, a time limit ends `timed-out`, anything else `failed` with the error's
 * code and whether it is retriable (the BuildfleetError's own flag, by default its code's): the
 * scheduler dispatches a retriable failure again while attempts are left (docs/scheduler.md,
 * "Retries"). Cancels and time limits are not retried.
 */
export function classifyFailure(
  error: unknown,
  abortCause: AbortCause | undefined,
): { state: 'failed' | 'timed-out' | 'cancelled' | 'handed-back'; error: ErrorInfo } {
  if (abortCause?.kind === 'cancel') {
    return {
      state: 'cancelled',
      error: { code: 'aborted', message: `cancelled: ${abortCause.reason || 'no reason given'}`, retriable: false },
    };
  }
  if (abortCause?.kind === 'shutdown') {
    return { state: 'handed-back', error: { code: 'aborted', message: 'runner shut down' } };
  }
  const failure = toBuildfleetError(error);
  if (failure.code === 'exec-timeout') {
    return { state: 'timed-out', error: { code: failure.code, message: failure.message, retriable: false } };
  }
  return { state: 'failed', error: { code: failure.code, message: failure.message, retriable: failure.retriable } };
}
