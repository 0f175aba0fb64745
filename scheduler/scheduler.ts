/**
 * The scheduler service (DESIGN.md §4): submissions -> build requests, leases, retries,
 * supersede and cancel. The decisions are in ./core/build-table.ts; this file is the I/O
 * shell around them: it consumes `submit`, `events` and `control`, carries out the effects in
 * order (state first, then events and requests) and runs one timer for leases and waiting
 * builds. Exactly one scheduler instance runs per cluster (docs/scheduler.md).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, Subscription } from '../shared/bus/index.ts';
import { BuildfleetError, isBuildfleetError, toBuildfleetError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Metrics } from '../shared/metrics/index.ts';
import {
  buildKeyOf,
  consumerGroupNames,
  decoderFor,
  repoKeyOf,
  topicNames,
  type BuildEvent,
  type BuildSubmit,
  type ControlCancel,
} from '../shared/messages/index.ts';
import { buildIdOf } from './core/build-id.ts';
import { BuildTable } from './core/build-table.ts';
import type { CascadePlan, CascadeTrigger } from './core/cascade.ts';
import type { SchedulerEffect } from './core/effects.ts';
import type { TrackedBuild } from './core/tracked-build.ts';
import { eventOf, requestOf, targetsOfFailedSubmit } from './messages-out.ts';
import type { SubmitResolver } from './resolve.ts';
import { buildRecord, stateKey, type StateRecord } from './state/state-records.ts';
import type { LoadedState, StateStore } from './state/state-store.ts';

/** How long a dispatch trusts that a runner group it saw with members still has some. */
const RUNNERS_SEEN_MS = 1000;

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
  /** Stops intake, finishes the record in hand, stops the timer. Idempotent. */
  stop(): Promise<void>;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { bus, logger, metrics } = options;
  const topics = topicNames(bus.topicPrefix);
  const groups = consumerGroupNames(bus.topicPrefix);
  const table = new BuildTable({ leaseMs: options.leaseMs ?? 60_000, maxAttempts: options.maxAttempts ?? 3 });
  const stopController = new AbortController();
  const subscriptions: Subscription[] = [];
  /** Builds whose `waiting` reason was told already, so the timer does not repeat it. */
  const told = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  const dispatching = new Set<string>();
  let ticking = false;
  let stopping: Promise<void> | null = null;

  async function publishEvent(event: BuildEvent): Promise<void> {
    await bus.publish(topics.events, { key: event.repoKey, value: event }, stopController.signal);
    metrics?.builds.inc({ state: event.state });
  }

  async function run(effects: SchedulerEffect[]): Promise<void> {
    let batch: Array<{ key: string; value: StateRecord }> = [];
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await options.state.write(batch, stopController.signal);
      batch = [];
    };
    for (const effect of effects) {
      switch (effect.type) {
        case 'persist-build':
          batch.push({ key: stateKey.build(effect.build.buildId), value: buildRecord(effect.build) });
          break;
        case 'persist-rebuild':
          batch.push({
            key: stateKey.rebuild(effect.buildKey),
            value: { v: 1, type: 'scheduler.rebuild', buildKey: effect.buildKey, number: effect.number },
          });
          break;
        case 'persist-submit':
          batch.push({
            key: stateKey.submit(effect.submitId),
            value: { v: 1, type: 'scheduler.submit', submitId: effect.submitId, buildIds: effect.buildIds },
          });
          break;
        case 'event':
          await flush();
          await publishEvent(
            eventOf(effect.build, effect.state, options.instanceId, {
              ...(effect.submitId !== undefined ? { submitId: effect.submitId } : {}),
              ...(effect.reason !== undefined ? { reason: effect.reason } : {}),
              ...(effect.error !== undefined ? { error: effect.error } : {}),
              ...(effect.waitingFor !== undefined ? { waitingFor: effect.waitingFor } : {}),
            }),
          );
          break;
        case 'dispatch':
          await flush();
          await dispatch(effect.build, effect.reason);
          break;
        case 'cancel': {
          await flush();
          const cancel: ControlCancel = {
            v: 1,
            type: 'control.cancel',
            buildId: effect.buildId,
            reason: effect.reason,
            at: new Date().toISOString(),
          };
          await bus.publish(topics.control, { key: effect.buildId, value: cancel }, stopController.signal);
          break;
        }
        default: {
          const unknown: never = effect;
          throw new Error(`unknown effect ${JSON.stringify(unknown)}`);
        }
      }
    }
    await flush();
  }

  /**
   * Groups seen with runners, and when: a dispatch trusts that for RUNNERS_SEEN_MS instead of
   * asking the broker for every build (a describe-group round trip). A group with none is asked
   * again every time, and the timer checks waiting builds without this cache.
   */
  const runnersSeen = new Map<string, number>();
  async function runnersForDispatch(build: TrackedBuild): Promise<number> {
    const group = groups.runner(build.runnerGroup, build.target.arch);
    const seen = runnersSeen.get(group);
    if (seen !== undefined && Date.now() - seen < RUNNERS_SEEN_MS) return 1;
    const count = await runnersOf(build);
    if (count > 0) runnersSeen.set(group, Date.now());
    else runnersSeen.delete(group);
    return count;
  }

  async function runnersOf(build: TrackedBuild): Promise<number> {
    try {
      return await bus.groupMembers(groups.runner(build.runnerGroup, build.target.arch));
    } catch (error) {
      logger.warn({ err: error }, 'scheduler: cannot tell whether runners are there; assuming they are');
      return 1;
    }
  }

  /** Publishes the request of the build's current attempt, with `queued` or `waiting` before it. */
  async function dispatch(build: TrackedBuild, reason?: string): Promise<void> {
    // The submit handler and the timer may both find an undispatched build: one publishes.
    const id = `${build.buildId}#${build.attempt}`;
    // A build released and then made to wait again (a cascade's rebuild of a dependency) is not sent.
    if (build.dispatched || build.phase === 'done' || build.phase === 'blocked' || dispatching.has(id)) return;
    dispatching.add(id);
    try {
      await dispatchOnce(build, reason);
    } finally {
      dispatching.delete(id);
    }
  }

  async function dispatchOnce(build: TrackedBuild, reason?: string): Promise<void> {
    const attempt = build.attempt;
    const topic = topics.requests(build.runnerGroup, build.target.arch);
    const waiting = (await runnersForDispatch(build)) === 0;
    const noRunner = `no runner for ${build.runnerGroup}.${build.target.arch}`;
    const state = waiting ? 'waiting' : 'queued';
    await tell(build, state, waiting ? noRunner : reason);
    try {
      await bus.publish(topic, { key: build.buildKey, value: requestOf(build) }, stopController.signal);
    } catch (error) {
      if (!isBuildfleetError(error, 'topic-missing')) throw error;
      // Kept undispatched: the timer publishes it once the topic exists.
      await tell(build, 'waiting', `no request topic ${topic} (buildfleet topics ensure creates it)`);
      return;
    }
    const now = Date.now();
    const dispatched = table.dispatched(build.buildId, attempt, waiting, now);
    if (dispatched) {
      await options.state.write([{ key: stateKey.build(build.buildId), value: buildRecord(dispatched) }]);
    }
  }

  /** Publishes `queued` / `waiting` unless this very state and reason was told last for the build. */
  async function tell(build: TrackedBuild, state: 'queued' | 'waiting', reason: string | undefined): Promise<void> {
    const what = `${state}:${reason ?? ''}`;
    if (told.get(build.buildId) === what) return;
    told.set(build.buildId, what);
    await publishEvent(
      eventOf(build, state, options.instanceId, {
        submitId: build.submitId,
        ...(reason ? { reason } : {}),
      }),
    );
  }

  async function onSubmit(submit: BuildSubmit, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    if (table.submitted(submit.submitId) === undefined) {
      // Checked before anything is published: a bad project path goes to the dead-letter topic.
      buildKeyOf(submit.project, { dist: 'd', arch: 'a' });
    }
    let resolved;
    try {
      resolved =
        table.submitted(submit.submitId) !== undefined
          ? { commit: '', sourceUrl: '', targets: [] }
          : await withSourceRetries(() => options.resolver.resolve(submit, signal), signal, {
              submitId: submit.submitId,
            });
    } catch (error) {
      const failure = toBuildfleetError(error);
      if (failure.code === 'aborted' || signal.aborted) throw failure;
      await failSubmit(submit, failure);
      return;
    }
    const { buildIds, effects } = table.submit(submit, resolved, Date.now());
    await run(effects);
    logger.info(
      { submitId: submit.submitId, project: submit.project, buildIds, ms: Date.now() - started },
      'scheduler: submission handled',
    );
  }

  /** Runs `work` again with a growing delay while the sources cannot be reached (retriable errors), up to sourceRetryMs. */
  async function withSourceRetries<T>(
    work: () => Promise<T>,
    signal: AbortSignal,
    context: Record<string, string>,
  ): Promise<T> {
    const deadline = Date.now() + (options.sourceRetryMs ?? 600_000);
    for (let delay = 500; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await work();
      } catch (error) {
        const failure = toBuildfleetError(error);
        if (!failure.retriable || Date.now() + delay > deadline || signal.aborted) throw failure;
        logger.warn({ ...context, err: failure }, 'scheduler: sources not reachable; trying again');
        await sleep(delay, undefined, { signal });
      }
    }
  }

  /** A submission that cannot be built: each target it names (or a stand-in) ends `failed` with the reason. */
  async function failSubmit(submit: BuildSubmit, error: BuildfleetError): Promise<void> {
    const targets = targetsOfFailedSubmit(submit.targets);
    const builds = targets.map((target) => {
      const buildKey = buildKeyOf(submit.project, target);
      return {
        buildId: buildIdOf(submit.submitId, buildKey),
        attempt: 1,
        buildKey,
        project: submit.project,
        target,
        repoKey: repoKeyOf(submit.project, target.dist),
        commit: '',
      };
    });
    await options.state.write([
      {
        key: stateKey.submit(submit.submitId),
        value: { v: 1, type: 'scheduler.submit', submitId: submit.submitId, buildIds: builds.map((b) => b.buildId) },
      },
    ]);
    const errorInfo = { code: error.code, message: error.message };
    for (const build of builds) {
      await publishEvent(eventOf(build, 'submitted', options.instanceId, { submitId: submit.submitId }));
      await publishEvent(eventOf(build, 'failed', options.instanceId, { submitId: submit.submitId, error: errorInfo }));
    }
    // Builds of its batch that waited for this package's build fail instead of waiting.
    await run(table.submitFailed(submit.project, `[${error.code}] ${error.message}`));
    logger.warn({ submitId: submit.submitId, project: submit.project, err: error }, 'scheduler: submission failed');
  }

  async function onEvent(event: BuildEvent, signal: AbortSignal): Promise<void> {
    // The cascade's plan is read before the event changes the table: the builds its `published`
    // releases are then still undispatched, and the cascade can make them wait for its rebuilds.
    const trigger = table.cascadeTrigger(event);
    const plan = trigger ? await cascadePlan(trigger, signal) : undefined;
    const before = table.get(event.buildId);
    const dispatchedAt = before?.dispatchedAt;
    const effects = table.onEvent(event, Date.now());
    if (trigger && plan) effects.push(...table.cascade(trigger, plan, Date.now()));
    if (event.state === 'claimed' && before && dispatchedAt !== undefined && event.attempt === before.attempt) {
      metrics?.dispatchLatency.observe({ runner_group: before.runnerGroup }, (Date.now() - dispatchedAt) / 1000);
    }
    if (before && table.get(event.buildId) === undefined) told.delete(event.buildId);
    await run(statesFirst(effects));
    if (trigger && plan && plan.targets.length > 0) {
      logger.info(
        { buildId: trigger.buildId, project: trigger.project, dependants: plan.targets.length },
        'scheduler: cascade of rebuilds planned',
      );
    }
  }

  /** The cascade's plan, tried again while the sources cannot be reached; undefined when it cannot be made. */
  async function cascadePlan(trigger: CascadeTrigger, signal: AbortSignal): Promise<CascadePlan | undefined> {
    try {
      return await withSourceRetries(() => options.resolver.cascade(trigger, signal), signal, {
        buildId: trigger.buildId,
      });
    } catch (error) {
      const failure = toBuildfleetError(error);
      if (failure.code === 'aborted' || signal.aborted) throw failure;
      logger.error(
        { buildId: trigger.buildId, project: trigger.project, err: failure },
        'scheduler: the rebuilds of dependants cannot be planned; none are made for this build',
      );
      return undefined;
    }
  }

  async function onCancel(cancel: ControlCancel): Promise<void> {
    await run(table.cancel(cancel.buildId, cancel.reason));
    if (!table.get(cancel.buildId)) told.delete(cancel.buildId);
  }

  async function tick(): Promise<void> {
    if (ticking) return;
    ticking = true;
    try {
      for (const { build, effects } of table.expireLeases(Date.now())) {
        metrics?.leaseExpiries.inc({ runner_group: build.runnerGroup });
        logger.warn({ buildId: build.buildId, attempt: build.attempt }, 'scheduler: lease ran out');
        if (build.phase === 'done') told.delete(build.buildId);
        await run(effects);
      }
      await run(table.expireDependencyWaits(Date.now()));
      for (const build of table.undispatched()) await dispatch(build);
      const members = new Map<string, number>();
      for (const build of table.waiting()) {
        const group = groups.runner(build.runnerGroup, build.target.arch);
        let count = members.get(group);
        if (count === undefined) {
          count = await runnersOf(build);
          members.set(group, count);
        }
        if (count > 0 && table.runnerAppeared(build.buildId)) {
          await tell(build, 'queued', `a runner of ${build.runnerGroup}.${build.target.arch} is there`);
        }
      }
      const phases = table.phases();
      metrics?.queueDepth.set({ runner_group: 'all', arch: 'all' }, phases.queued + phases.waiting);
    } catch (error) {
      if (!stopController.signal.aborted)
        logger.error({ err: error }, 'scheduler: lease check failed; next tick retries');
    } finally {
      ticking = false;
    }
  }

  return {
    table,
    async start(signal) {
      const loaded = await options.state.load(signal);
      const restored = table.restore(loaded.builds, loaded.submits, Date.now(), loaded.rebuilds);
      logger.info(
        { active: table.size, submits: loaded.submits.length, cursors: loaded.cursors.size },
        'scheduler: state loaded',
      );
      await run(restored);
      subscriptions.push(
        await bus.consume<BuildEvent>({
          topics: [topics.events],
          group: `${groups.scheduler}.events`,
          decode: decoderFor('build.event'),
          handle: (record, handlerSignal) =>
            onEvent(record.value, AbortSignal.any([handlerSignal, stopController.signal])),
        }),
        await bus.consume<ControlCancel>({
          topics: [topics.control],
          group: `${groups.scheduler}.control`,
          decode: decoderFor('control.cancel'),
          handle: (record) => onCancel(record.value),
        }),
        await bus.consume<BuildSubmit>({
          topics: [topics.submit],
          group: groups.scheduler,
          decode: decoderFor('build.submit'),
          handle: (record, handlerSignal) =>
            onSubmit(record.value, AbortSignal.any([handlerSignal, stopController.signal])),
        }),
      );
      const interval = options.checkIntervalMs ?? 1000;
      timer = setInterval(() => void tick(), interval);
      await tick();
      return loaded;
    },
    stop() {
      return (stopping ??= (async () => {
        if (timer) clearInterval(timer);
        await Promise.all(subscriptions.map((s) => s.close()));
        stopController.abort(new BuildfleetError('aborted', 'scheduler stopping'));
        while (ticking) await sleep(20);
      })());
    },
  };
}

/**
 * The state writes of a list of effects first, then the rest in order: what a cascade decided is
 * durable before any of it (or of the `published` that started it) is told.
 */
function statesFirst(effects: SchedulerEffect[]): SchedulerEffect[] {
  const states = effects.filter((e) => e.type.startsWith('persist-'));
  return [...states, ...effects.filter((e) => !e.type.startsWith('persist-'))];
}
