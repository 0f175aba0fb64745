import type { Logger } from '../log/index.ts';
import { BuildfleetError, isBuildfleetError, toBuildfleetError } from '../errors/index.ts';

/**
 * The shutdown ladder. Shutdown runs these phases in order; within a phase, steps run one
 * after another in reverse registration order (the last thing set up is the first torn
 * down, as with `defer`). Between `stop-intake` and `drain`, shutdown waits for the main
 * function given to run() to return.
 */
export const ShutdownPhases = ['stop-intake', 'drain', 'report', 'leave', 'close'] as const;
export type ShutdownPhase = (typeof ShutdownPhases)[number];

/** A shutdown step. `signal` aborts at the grace deadline: hand work back instead of finishing it. */
export type ShutdownStep = (signal: AbortSignal) => Promise<void> | void;

export type LifecycleState = 'running' | 'stopping' | 'stopped';

export interface LifecycleOptions {
  logger: Logger;
  /** Milliseconds after shutdown starts at which step signals abort. */
  graceMs: number;
  /** Milliseconds after shutdown starts at which shutdown stops waiting and fails. @default graceMs + 5000 */
  forceMs?: number;
  /** Told once about the error that failed the service, before shutdown starts. */
  onFatal?: (error: BuildfleetError) => void;
  /** Ends the process in run(); tests pass their own. @default process.exit */
  exit?: (code: number) => void;
}

/** What installSignalHandlers listens on: `process`, normally. */
export interface SignalSource {
  on(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface Lifecycle {
  /** Aborts when shutdown starts: loops stop taking new work. */
  readonly signal: AbortSignal;
  readonly state: LifecycleState;
  /** Registers a step; see ShutdownPhases for the order. @default phase 'close' */
  onShutdown(name: string, step: ShutdownStep, options?: { phase?: ShutdownPhase }): void;
  /**
   * Starts shutdown (once; later calls return the same promise). Resolves when every step
   * is done; rejects with the first step's error after running the rest, or with
   * BuildfleetError('shutdown-timeout', context.forced = true) at the force deadline.
   */
  shutdown(reason?: string): Promise<void>;
  /** Skips the grace period: aborts step signals and fails shutdown now (a second Ctrl-C). */
  forceShutdown(reason?: string): Promise<void>;
  /** Reports an error the service cannot go on with: logs it, calls onFatal, shuts down; run() exits 1. */
  fail(error: unknown): void;
  /** First SIGTERM or SIGINT shuts down, a later SIGINT forces. Returns a function removing the handlers. */
  installSignalHandlers(source?: SignalSource): () => void;
  /**
   * Runs the service's main function with `signal` and ends the process through `exit`:
   * 0 after a clean shutdown, 1 after a fatal error, a failed step or a forced shutdown.
   * Resolves with that code (when `exit` returns, as in tests).
   */
  run(main: (signal: AbortSignal) => Promise<void>): Promise<number>;
}

interface RegisteredStep {
  name: string;
  phase: ShutdownPhase;
  step: ShutdownStep;
}

const noop = (): void => undefined;

export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const { logger, graceMs } = options;
  const forceMs = options.forceMs ?? graceMs + 5000;
  if (!(graceMs >= 0) || !(forceMs >= graceMs)) {
    throw new BuildfleetError('config-invalid', `lifecycle: need 0 <= graceMs <= forceMs (got ${graceMs}, ${forceMs})`);
  }
  const exit = options.exit ?? ((code: number): void => process.exit(code));
  const steps: RegisteredStep[] = [];
  const stopping = new AbortController();
  const grace = new AbortController();
  const running = new Set<string>();
  const uninstallers = new Set<() => void>();
  let state: LifecycleState = 'running';
  let shutdownPromise: Promise<void> | undefined;
  let mainReturned: Promise<void> | undefined;
  let fatalError: BuildfleetError | undefined;
  let forced = false;
  let rejectForced: (error: BuildfleetError) => void = noop;
  const forcedDeadline = new Promise<never>((_, reject) => {
    rejectForced = reject;
  });
  forcedDeadline.catch(noop); // observed through the race in runShutdown

  function force(reason: string): void {
    if (forced || state === 'stopped') return;
    forced = true;
    grace.abort(new BuildfleetError('aborted', `shutdown forced: ${reason}`));
    const pending = [...running];
    logger.error({ reason, pendingSteps: pending }, 'shutdown forced');
    rejectForced(
      new BuildfleetError(
        'shutdown-timeout',
        `shutdown forced (${reason}); still running: ${pending.join(', ') || 'none'}`,
        {
          context: { forced: true, reason, pendingSteps: pending },
        },
      ),
    );
  }

  async function runSteps(): Promise<void> {
    const failures: { name: string; error: BuildfleetError }[] = [];
    for (const phase of ShutdownPhases) {
      if (phase === 'drain' && mainReturned !== undefined) {
        logger.debug('shutdown: waiting for main to return');
        await mainReturned;
      }
      for (const { name, step } of steps.filter((entry) => entry.phase === phase).reverse()) {
        if (forced) return;
        running.add(name);
        const started = performance.now();
        try {
          await step(grace.signal);
          logger.info({ step: name, phase, durationMs: Math.round(performance.now() - started) }, 'shutdown step done');
        } catch (thrown) {
          const error = toBuildfleetError(thrown);
          if (grace.signal.aborted && isBuildfleetError(error, 'aborted')) {
            logger.warn({ step: name, phase }, 'shutdown step stopped at the grace deadline');
          } else {
            failures.push({ name, error });
            logger.error({ step: name, phase, err: error }, 'shutdown step failed');
          }
        } finally {
          running.delete(name);
        }
      }
    }
    const [first] = failures;
    if (first !== undefined) {
      throw new BuildfleetError(first.error.code, `shutdown step "${first.name}" failed: ${first.error.message}`, {
        cause: first.error,
        context: { step: first.name, failedSteps: failures.map((failure) => failure.name) },
      });
    }
  }

  async function runShutdown(reason: string): Promise<void> {
    state = 'stopping';
    const started = performance.now();
    logger.info({ reason, graceMs, forceMs }, 'shutdown started');
    stopping.abort(new BuildfleetError('aborted', `shutting down: ${reason}`));
    const graceTimer = setTimeout(() => {
      logger.warn({ graceMs }, 'shutdown grace period over: aborting in-flight work');
      grace.abort(new BuildfleetError('aborted', `shutdown grace period of ${graceMs} ms is over`));
    }, graceMs);
    const forceTimer = setTimeout(() => force(`force deadline of ${forceMs} ms passed`), forceMs);
    try {
      await Promise.race([runSteps(), forcedDeadline]);
      logger.info({ durationMs: Math.round(performance.now() - started) }, 'shutdown complete');
    } finally {
      clearTimeout(graceTimer);
      clearTimeout(forceTimer);
      state = 'stopped';
      // Default signal behaviour again: a process stuck after a forced shutdown can still be killed.
      for (const uninstall of uninstallers) uninstall();
    }
  }

  const shutdown = (reason = 'shutdown requested'): Promise<void> => {
    shutdownPromise ??= runShutdown(reason);
    return shutdownPromise;
  };

  const fail = (thrown: unknown): void => {
    const error = toBuildfleetError(thrown);
    if (fatalError === undefined) {
      fatalError = error;
      logger.fatal({ err: error }, 'fatal error');
      try {
        options.onFatal?.(error);
      } catch (hookError) {
        logger.error({ err: hookError }, 'onFatal hook failed');
      }
    }
    shutdown(`fatal: ${error.message}`).catch(noop);
  };

  return {
    signal: stopping.signal,
    get state() {
      return state;
    },
    onShutdown(name, step, stepOptions = {}) {
      steps.push({ name, step, phase: stepOptions.phase ?? 'close' });
    },
    shutdown,
    forceShutdown(reason = 'forced') {
      const promise = shutdown(reason);
      force(reason);
      return promise;
    },
    fail,
    installSignalHandlers(source = process) {
      const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
        if (state === 'running') {
          logger.info({ signal }, 'signal received');
          shutdown(signal).catch(noop);
        } else if (signal === 'SIGINT') {
          force('second SIGINT');
        } else {
          logger.warn({ signal }, 'already shutting down');
        }
      };
      const onTerm = (): void => onSignal('SIGTERM');
      const onInt = (): void => onSignal('SIGINT');
      source.on('SIGTERM', onTerm);
      source.on('SIGINT', onInt);
      const uninstall = (): void => {
        source.off('SIGTERM', onTerm);
        source.off('SIGINT', onInt);
        uninstallers.delete(uninstall);
      };
      uninstallers.add(uninstall);
      return uninstall;
    },
    async run(main) {
      if (mainReturned !== undefined) throw new BuildfleetError('internal', 'lifecycle: run() called twice');
      // Called right away (not on a later tick) so main sees the signal before anyone can abort it.
      mainReturned = (async () => main(stopping.signal))().then(
        () => {
          if (state === 'running') shutdown('main returned').catch(noop);
        },
        (thrown: unknown) => {
          if (!(stopping.signal.aborted && isBuildfleetError(toBuildfleetError(thrown), 'aborted'))) fail(thrown);
        },
      );
      await new Promise((resolve) => {
        if (stopping.signal.aborted) resolve(undefined);
        else stopping.signal.addEventListener('abort', resolve, { once: true });
      });
      let code = 0;
      try {
        await shutdown();
      } catch {
        code = 1; // already logged by the step or the force deadline
      }
      if (fatalError !== undefined) code = 1;
      logger.info({ exitCode: code }, 'exiting');
      exit(code);
      return code;
    },
  };
}
