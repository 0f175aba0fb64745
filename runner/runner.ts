import type { Logger } from '../shared/log/index.ts';
import { BuildfleetError } from '../shared/errors/index.ts';
import type { Bus, Subscription } from '../shared/bus/index.ts';
import type { Metrics } from '../shared/metrics/index.ts';
import {
  decoderFor,
  routeOf,
  topicNames,
  consumerGroupNames,
  type BuildRequest,
  type BuildState,
  type ControlCancel,
} from '../shared/messages/index.ts';
import { RecentCancels } from './cancellations.ts';
import { buildEventFor, type EventDetails } from './job/events.ts';
import { runBuildJob, type BuildJobDeps } from './job/build-job.ts';
import { hostPathRedactor } from './job/host-paths.ts';
import type { AbortCause, JobOutcome } from './job/outcome.ts';
import { Slots } from './slots.ts';

export interface RunnerOptions {
  runnerId: string;
  group: string;
  arches: readonly string[];
  slots: number;
  heartbeatMs: number;
  graceMs: number;
  bus: Bus;
  logger: Logger;
  /** Slots, builds by end state, build durations and error codes are counted here when given. */
  metrics?: Metrics;
  /** Everything a build job needs but the bus-facing callbacks. */
  job: Omit<BuildJobDeps, 'publishPhase' | 'sendLog' | 'logger'>;
}

interface RunningBuild {
  request: BuildRequest;
  controller: AbortController;
  cause: AbortCause | undefined;
  done: Promise<void>;
}

export interface Runner {
  /** Joins the request groups and the control topic; resolves once joined. */
  start(): Promise<void>;
  /** Builds running now. */
  running(): BuildRequest[];
  /** Stops intake, lets running builds finish within graceMs, hands back the rest. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The runner service: takes build requests from its group's request topics as a shared queue,
 * at most `slots` at a time (the consumer pauses, never leaves the group), claims each with a
 * lease it renews by heartbeats, and publishes each phase and the end state.
 */
export function createRunner(options: RunnerOptions): Runner {
  const { bus, logger, runnerId } = options;
  const topics = topicNames(bus.topicPrefix);
  const groups = consumerGroupNames(bus.topicPrefix);
  const slots = new Slots(options.slots);
  const builds = new Map<string, RunningBuild>();
  const cancels = new RecentCancels();
  const intake: Subscription[] = [];
  let control: Subscription | undefined;
  let stopping: Promise<void> | null = null;

  const metrics = options.metrics;
  const countSlots = (): void => {
    metrics?.runnerSlots.set({ state: 'busy' }, slots.inUse);
    metrics?.runnerSlots.set({ state: 'free' }, slots.size - slots.inUse);
  };
  countSlots();

  const publishEvent = async (request: BuildRequest, state: BuildState, details: EventDetails = {}): Promise<void> => {
    const { topic, record } = routeOf(topics, buildEventFor(request, state, runnerId, details));
    await bus.publish(topic, record);
    if (state !== 'heartbeat') metrics?.builds.inc({ state });
  };

  async function onRequest(request: BuildRequest, arch: string, signal: AbortSignal): Promise<void> {
    if (request.target.arch !== arch || request.runnerGroup !== options.group) {
      throw new BuildfleetError(
        'message-invalid',
        `build.request for ${request.runnerGroup}.${request.target.arch} on the topic of ${options.group}.${arch}`,
      );
    }
    if (builds.has(request.buildId)) return; // redelivered while we still hold it
    const cancelled = cancels.take(request.buildId);
    if (cancelled !== undefined) {
      await publishEvent(request, 'cancelled', { error: { code: 'aborted', message: `cancelled: ${cancelled}` } });
      return;
    }
    const nowFull = await slots.take(request.buildId, signal);
    countSlots();
    if (nowFull) for (const s of intake) s.pause();
    try {
      await publishEvent(request, 'claimed', { leaseMs: request.leaseMs });
    } catch (error) {
      release(request.buildId);
      throw error;
    }
    start(request);
  }

  function start(request: BuildRequest): void {
    const controller = new AbortController();
    const log = logger.child({ buildId: request.buildId, attempt: request.attempt, runnerId });
    const heartbeat = setInterval(() => {
      publishEvent(request, 'heartbeat', { leaseMs: request.leaseMs }).catch((error: unknown) =>
        log.warn({ err: error }, 'runner: heartbeat not sent'),
      );
    }, options.heartbeatMs);
    const running: RunningBuild = { request, controller, cause: undefined, done: Promise.resolve() };
    running.done = (async () => {
      const outcome = await runBuildJob(
        request,
        {
          ...options.job,
          logger: log,
          publishPhase: (state, details) => publishEvent(request, state, details),
          sendLog: (chunk) => {
            const { topic, record } = routeOf(topics, chunk);
            return bus.publish(topic, record);
          },
        },
        controller.signal,
        () => running.cause,
      ).catch((error: unknown): JobOutcome => {
        log.error({ err: error }, 'runner: build job crashed');
        // The event is read by everyone who can read the build: host paths stay in the runner's log.
        const message = hostPathRedactor([
          { path: options.job.workDir, placeholder: '<work>' },
          ...(options.job.hostPaths ?? []),
        ])(String(error));
        return { state: 'failed', error: { code: 'internal', message }, durations: {} };
      });
      clearInterval(heartbeat);
      const seconds = Object.values(outcome.durations).reduce((sum: number, ms) => sum + (ms ?? 0), 0) / 1000;
      metrics?.buildDuration.observe({ kind: request.kind, outcome: outcome.state }, seconds);
      if ('error' in outcome) metrics?.errors.inc({ code: outcome.error.code });
      await report(request, outcome).catch((error: unknown) => log.error({ err: error }, 'runner: end event not sent'));
      log.info({ state: outcome.state, durations: outcome.durations }, 'runner: build ended');
      builds.delete(request.buildId);
      release(request.buildId);
    })();
    builds.set(request.buildId, running);
  }

  async function report(request: BuildRequest, outcome: JobOutcome): Promise<void> {
    switch (outcome.state) {
      case 'succeeded':
        return publishEvent(request, 'succeeded', {
          artifacts: outcome.artifacts,
          durations: outcome.durations,
          logKey: outcome.logKey,
          ...(outcome.builtAgainst === undefined ? {} : { builtAgainst: outcome.builtAgainst }),
        });
      case 'failed':
      case 'timed-out':
      case 'cancelled':
        return publishEvent(request, outcome.state, {
          error: outcome.error,
          durations: outcome.durations,
          ...(outcome.logKey ? { logKey: outcome.logKey } : {}),
        });
      case 'handed-back':
        return; // the lease runs out and the scheduler dispatches the build again
      default: {
        const never: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
  }

  function release(buildId: string): void {
    const resume = slots.free(buildId);
    countSlots();
    if (resume) for (const s of intake) s.resume();
  }

  async function onCancel(message: ControlCancel): Promise<void> {
    const running = builds.get(message.buildId);
    if (!running) {
      cancels.remember(message.buildId, message.reason);
      return;
    }
    logger.info({ buildId: message.buildId, reason: message.reason }, 'runner: cancelling build');
    running.cause ??= { kind: 'cancel', reason: message.reason };
    running.controller.abort(new BuildfleetError('aborted', `cancelled: ${message.reason}`));
  }

  return {
    async start() {
      control = await bus.subscribe<ControlCancel>({
        name: groups.runnerControl(options.group, runnerId),
        topics: [topics.control],
        decode: decoderFor('control.cancel'),
        handle: (record) => onCancel(record.value),
      });
      for (const arch of options.arches) {
        intake.push(
          await bus.consume<BuildRequest>({
            topics: [topics.requests(options.group, arch)],
            group: groups.runner(options.group, arch),
            decode: decoderFor('build.request'),
            // A request is retried only while the claim cannot be published; then dead-lettered.
            handle: (record, signal) => onRequest(record.value, arch, signal),
          }),
        );
      }
      await Promise.all([control.ready, ...intake.map((s) => s.ready)]);
    },
    running: () => [...builds.values()].map((b) => b.request),
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(intake.map((s) => s.close()));
        const all = Promise.all([...builds.values()].map((b) => b.done));
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'grace-over'>((resolve) => {
          timer = setTimeout(() => resolve('grace-over'), options.graceMs);
        });
        if ((await Promise.race([all, graceOver])) === 'grace-over') {
          for (const running of builds.values()) {
            running.cause ??= { kind: 'shutdown' };
            running.controller.abort(new BuildfleetError('aborted', 'runner shutting down'));
          }
          await all;
        }
        clearTimeout(timer);
        await control?.close();
      })()),
  };
}
