/**
 * The scheduler's slow I/O: reading the sources (git) for a submission or a cascade's plan. It
 * runs outside the input queue, tried again while the sources cannot be reached.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { toBuildfleetError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';

export interface SourceRetryOptions {
  signal: AbortSignal;
  logger: Logger;
  /** How long the sources may stay unreachable before the work fails. */
  retryMs: number;
  /** Log fields naming what the work is for (submitId, buildId). */
  context: Record<string, string>;
}

/** Runs `work` again with a growing delay while the sources cannot be reached (retriable errors), up to retryMs. */
export async function withSourceRetries<T>(work: () => Promise<T>, options: SourceRetryOptions): Promise<T> {
  const { signal } = options;
  const deadline = Date.now() + options.retryMs;
  for (let delay = 500; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await work();
    } catch (error) {
      const failure = toBuildfleetError(error);
      if (!failure.retriable || Date.now() + delay > deadline || signal.aborted) throw failure;
      options.logger.warn({ ...options.context, err: failure }, 'scheduler: sources not reachable; trying again');
      await sleep(delay, undefined, { signal });
    }
  }
}
