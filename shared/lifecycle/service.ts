/**
 * What every service's compose function (`start<Service>Service(settings, deps)` in its
 * service.ts) takes and gives: the adapters made by its caller (the service's main, `buildfleet
 * up`, tests), and a running service whose stop() the caller registers with its lifecycle.
 */
import type { Bus } from '../bus/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';

export interface ServiceDeps {
  /** A bus client of the service's own; the caller closes it. */
  bus: Bus;
  logger: Logger;
  /** @default a registry of the service's own */
  metrics?: Metrics;
  /** Aborts start-up work (git, buildroot checks, reading the state topic). */
  signal?: AbortSignal;
}

export interface RunningService {
  /** Stops intake and finishes or hands back work; does not close the deps. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A stop() that runs the steps one after another, each even when an earlier one failed, and
 * then rejects with the first failure. Idempotent: later calls return the first promise.
 */
export function stopInOrder(...steps: Array<() => Promise<void> | undefined>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  };
  return () => (stopping ??= run());
}
