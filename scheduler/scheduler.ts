/**
 * The scheduler service (DESIGN.md §4): submissions -> build requests, leases, retries,
 * supersede and cancel. This file is the I/O shell: it puts the records of `submit`, `events`
 * and `control`, its timer's ticks and the results of slow work into one queue
 * (./input-queue.ts), hands them one at a time to the core (./core/scheduler-core.ts), which
 * owns all the state and decides, and carries out the effects it returns in order (state
 * first, then events and requests). Reading the sources (git, seconds, retried) runs outside the
 * queue. Exactly one scheduler instance runs per cluster (docs/scheduler.md).
 */
import type { Bus, Subscription } from '../shared/bus/index.ts';
import { BuildfleetError, isBuildfleetError, toBuildfleetError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Metrics } from '../shared/metrics/index.ts';
import {
  consumerGroupNames,
  controlCancel,
  routeOf,
  decoderFor,
  topicNames,
  type BuildEvent,
  type BuildSubmit,
  type ControlCancel,
} from '../shared/messages/index.ts';
import type { BuildTable } from './core/build-table.ts';
import { isPersist, type IoEffect, type RunnerPool } from './core/effects.ts';
import type { Answer, CoreEffect, QueuedInput, SlowWork } from './core/inputs.ts';
import { SchedulerCore } from './core/scheduler-core.ts';
import { createInputQueue } from './input-queue.ts';
import { eventOf, requestOf } from './messages-out.ts';
import type { SubmitResolver } from './resolve.ts';
import { withSourceRetries } from './source-retries.ts';
import { buildRecord, stateKey, type StateRecord } from './state/state-records.ts';
import type { LoadedState, StateStore } from './state/state-store.ts';

export interface SchedulerOptions {
  instanceId: string;
  bus: Bus;
  state: StateStore;
  resolver: SubmitResolver;
  logger: Logger;
  metrics?: Metrics;
  /** Lease given to runners. @default 60000 */
  leaseMs?: number;
  /** Dispatches per build before `lease-expired`. @default 3 */
  maxAttempts?: number;
  /** How often leases and waiting builds are checked. @default 1000 */
  checkIntervalMs?: number;
  /** How long a submission waits for an unreachable sources repo before it fails. @default 600000 */
  sourceRetryMs?: number;
}

export interface Scheduler {
  /** Loads the state, joins the groups and starts the lease timer. */
  start(signal?: AbortSignal): Promise<LoadedState>;
  readonly table: BuildTable;
  /** Stops intake, finishes the input in hand, stops the timer. Idempotent. */
  stop(): Promise<void>;
}

/** An input with the signal its slow work stops on (the record's handler's, or the scheduler's). */
interface Queued {
  input: QueuedInput;
  signal: AbortSignal;
}

type PersistEffect = Extract<CoreEffect, { type: `persist-${string}` }>;

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { bus, logger, metrics } = options;
  const topics = topicNames(bus.topicPrefix);
  const groups = consumerGroupNames(bus.topicPrefix);
  const core = new SchedulerCore({ leaseMs: options.leaseMs ?? 60_000, maxAttempts: options.maxAttempts ?? 3 });
  /** Each input resolves to the slow work it started (settled once its result is handled). */
  const queue = createInputQueue<Queued, Array<Promise<void>>>(async ({ input, signal }) => {
    const later: Array<Promise<void>> = [];
    await carryOut(core.handle(input, Date.now()), signal, later);
    return later;
  });
  const stopController = new AbortController();
  const subscriptions: Subscription[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | null = null;

  /** Queues an input and resolves once it, and the slow work it started, are handled. */
  async function settle(input: QueuedInput, signal: AbortSignal): Promise<void> {
    const later = await queue.push({ input, signal });
    await Promise.all(later);
  }

  /** Carries out effects in order; the state writes are batched and written before the next other effect. */
  async function carryOut(
    effects: CoreEffect[],
    signal: AbortSignal,
    later: Array<Promise<void>>,
    writeSignal: AbortSignal | undefined = stopController.signal,
  ): Promise<void> {
    let batch: Array<{ key: string; value: StateRecord }> = [];
    for (const effect of effects) {
      if (isPersist(effect)) {
        batch.push(recordOf(effect));
        continue;
      }
      if (effect.type !== 'log' && effect.type !== 'metric' && batch.length > 0) {
        await options.state.write(batch, writeSignal);
        batch = [];
      }
      if (effect.type === 'resolve-submit' || effect.type === 'plan-cascade') {
        const work = startSlowWork(effect, signal);
        // Awaited by the record's handler once the input is handled; never an unhandled rejection.
        work.catch(() => undefined);
        later.push(work);
      } else {
        const answer = await perform(effect);
        // What follows I/O that has happened (a request sent) is recorded even while stopping:
        // a dispatch not recorded would be sent again after a restart.
        if (answer) await carryOut(core.handle(answer, Date.now()), signal, later, undefined);
      }
    }
    if (batch.length > 0) await options.state.write(batch, writeSignal);
  }

  /** One effect's I/O; what the core wants to hear back about it at once, if anything. */
  async function perform(effect: Exclude<CoreEffect, PersistEffect | SlowWork>): Promise<Answer | undefined> {
    switch (effect.type) {
      case 'event':
        await publishEvent(
          eventOf(effect.build, effect.state, options.instanceId, {
            ...(effect.submitId !== undefined ? { submitId: effect.submitId } : {}),
            ...(effect.reason !== undefined ? { reason: effect.reason } : {}),
            ...(effect.error !== undefined ? { error: effect.error } : {}),
            ...(effect.waitingFor !== undefined ? { waitingFor: effect.waitingFor } : {}),
          }),
        );
        return undefined;
      case 'cancel': {
        const { topic, record } = routeOf(topics, controlCancel({ buildId: effect.buildId, reason: effect.reason }));
        await bus.publish(topic, record, stopController.signal);
        return undefined;
      }
      case 'dispatch':
        return { type: 'dispatch-due', build: effect.build, ...(effect.reason ? { reason: effect.reason } : {}) };
      case 'check-waiting':
        return { type: 'waiting-due' };
      case 'count-runners': {
        const counts: number[] = [];
        for (const pool of effect.pools) counts.push(await runnersOf(pool));
        return { type: 'runners-counted', pools: effect.pools, counts, purpose: effect.purpose };
      }
      case 'request': {
        const { topic, record } = routeOf(topics, requestOf(effect.build));
        try {
          await bus.publish(topic, record, stopController.signal);
        } catch (error) {
          if (!isBuildfleetError(error, 'topic-missing')) throw error;
          return { type: 'request-topic-missing', build: effect.build, topic };
        }
        return { type: 'request-sent', build: effect.build, attempt: effect.attempt, waiting: effect.waiting };
      }
      case 'log':
      case 'metric':
        note(effect);
        return undefined;
      default: {
        const unknown: never = effect;
        throw new Error(`unknown effect ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Logs and metrics. */
  function note(effect: Extract<IoEffect, { type: 'log' | 'metric' }>): void {
    if (effect.type === 'log') {
      const fields = effect.since === undefined ? effect.fields : { ...effect.fields, ms: Date.now() - effect.since };
      logger[effect.level](fields, effect.message);
      return;
    }
    switch (effect.metric) {
      case 'dispatch-latency':
        metrics?.dispatchLatency.observe({ runner_group: effect.runnerGroup }, effect.seconds);
        return;
      case 'lease-expiry':
        metrics?.leaseExpiries.inc({ runner_group: effect.runnerGroup });
        return;
      case 'queue-depth':
        metrics?.queueDepth.set({ runner_group: 'all', arch: 'all' }, effect.depth);
        return;
      default: {
        const unknown: never = effect;
        throw new Error(`unknown metric ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * Reads the sources outside the queue (tried again while they cannot be reached), then queues
   * the result. An abort (the record's handler or the scheduler stopping) queues nothing: the
   * record is delivered again.
   */
  async function startSlowWork(work: SlowWork, signal: AbortSignal): Promise<void> {
    const retry = { signal, logger, retryMs: options.sourceRetryMs ?? 600_000 };
    let next: QueuedInput;
    try {
      if (work.type === 'resolve-submit') {
        const { submit, receivedAt } = work;
        const resolved = await withSourceRetries(() => options.resolver.resolve(submit, signal), {
          ...retry,
          context: { submitId: submit.submitId },
        });
        next = { type: 'submit-resolved', submit, resolved, receivedAt };
      } else {
        const { event, trigger } = work;
        const plan = await withSourceRetries(() => options.resolver.cascade(trigger, signal), {
          ...retry,
          context: { buildId: trigger.buildId },
        });
        next = { type: 'cascade-planned', event, trigger, plan };
      }
    } catch (error) {
      const failure = toBuildfleetError(error);
      if (failure.code === 'aborted' || signal.aborted) throw failure;
      next =
        work.type === 'resolve-submit'
          ? { type: 'submit-unresolvable', submit: work.submit, failure, receivedAt: work.receivedAt }
          : { type: 'cascade-unplannable', event: work.event, trigger: work.trigger, failure };
    }
    await settle(next, signal);
  }

  async function publishEvent(event: BuildEvent): Promise<void> {
    const { topic, record } = routeOf(topics, event);
    await bus.publish(topic, record, stopController.signal);
    metrics?.builds.inc({ state: event.state });
  }

  async function runnersOf(pool: RunnerPool): Promise<number> {
    try {
      return await bus.groupMembers(groups.runner(pool.runnerGroup, pool.arch));
    } catch (error) {
      logger.warn({ err: error }, 'scheduler: cannot tell whether runners are there; assuming they are');
      return 1;
    }
  }

  async function tick(): Promise<void> {
    try {
      await settle({ type: 'tick' }, stopController.signal);
    } catch (error) {
      if (!stopController.signal.aborted)
        logger.error({ err: error }, 'scheduler: lease check failed; next tick retries');
    }
  }

  /** The next tick, checkIntervalMs after the last one was handled. */
  function scheduleTick(): void {
    timer = setTimeout(() => {
      void tick().then(() => {
        if (stopping === null) scheduleTick();
      });
    }, options.checkIntervalMs ?? 1000);
  }

  return {
    get table() {
      return core.table;
    },
    async start(signal) {
      const loaded = await options.state.load(signal);
      const { builds, submits, rebuilds } = loaded;
      await settle({ type: 'restore', builds, submits, rebuilds }, stopController.signal);
      logger.info(
        { active: core.table.size, submits: submits.length, cursors: loaded.cursors.size },
        'scheduler: state loaded',
      );
      const handlerSignal = (handler: AbortSignal): AbortSignal => AbortSignal.any([handler, stopController.signal]);
      subscriptions.push(
        await bus.consume<BuildEvent>({
          topics: [topics.events],
          group: groups.schedulerEvents,
          decode: decoderFor('build.event'),
          handle: (record, handler) => settle({ type: 'event', event: record.value }, handlerSignal(handler)),
        }),
        await bus.consume<ControlCancel>({
          topics: [topics.control],
          group: groups.schedulerControl,
          decode: decoderFor('control.cancel'),
          handle: (record) => settle({ type: 'cancel', cancel: record.value }, stopController.signal),
        }),
        await bus.consume<BuildSubmit>({
          topics: [topics.submit],
          group: groups.scheduler,
          decode: decoderFor('build.submit'),
          handle: (record, handler) => settle({ type: 'submit', submit: record.value }, handlerSignal(handler)),
        }),
      );
      scheduleTick();
      await tick();
      return loaded;
    },
    stop() {
      return (stopping ??= (async () => {
        if (timer) clearTimeout(timer);
        await Promise.all(subscriptions.map((s) => s.close()));
        stopController.abort(new BuildfleetError('aborted', 'scheduler stopping'));
        await queue.idle();
      })());
    },
  };
}

function recordOf(effect: PersistEffect): { key: string; value: StateRecord } {
  switch (effect.type) {
    case 'persist-build':
      return { key: stateKey.build(effect.build.buildId), value: buildRecord(effect.build) };
    case 'persist-rebuild':
      return {
        key: stateKey.rebuild(effect.buildKey),
        value: { v: 1, type: 'scheduler.rebuild', buildKey: effect.buildKey, number: effect.number },
      };
    case 'persist-submit':
      return {
        key: stateKey.submit(effect.submitId),
        value: { v: 1, type: 'scheduler.submit', submitId: effect.submitId, buildIds: effect.buildIds },
      };
    default: {
      const unknown: never = effect;
      throw new Error(`unknown state effect ${JSON.stringify(unknown)}`);
    }
  }
}
