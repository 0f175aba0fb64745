/**
 * The info service (DESIGN.md §8): reads every build event into its view (a private group per
 * instance, from the beginning of the events topic, so each instance has the whole view and a
 * restart rebuilds it), answers info.query messages as a member of the shared info group, keeps
 * the logs of running builds, and serves the HTTP API of docs/api.md.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '../shared/log/index.ts';
import type { Bus, BusRecord, Subscription } from '../shared/bus/index.ts';
import { BuildfleetError, throwIfAborted } from '../shared/errors/index.ts';
import type { HttpRoute } from '../shared/http/index.ts';
import {
  consumerGroupNames,
  decodeMessage,
  decoderFor,
  isAttemptFinalState,
  isTerminalState,
  topicNames,
  type BuildEvent,
  type InfoQuery,
  type LogChunk,
} from '../shared/messages/index.ts';
import { createMetrics, type Metrics } from '../shared/metrics/index.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';
import { CatchUpTracker } from './catch-up.ts';
import { EventStream } from './event-stream.ts';
import type { GraphSource } from './graph-source.ts';
import { createApiRoutes } from './http/api.ts';
import { createInfoHttpServer, type InfoHttpServer, type InfoHttpServerOptions } from './http/server.ts';
import { LiveLogs, type LiveLogsOptions } from './live-logs.ts';
import { StreamGate, type StreamLimits } from './stream-gate.ts';
import { answerQuery } from './queries.ts';
import { BuildView, type BuildViewOptions } from './view.ts';

export interface InfoServiceOptions {
  bus: Bus;
  store: ArtifactStore;
  logger: Logger;
  /** Served on `/metrics`. @default a registry of its own */
  metrics?: Metrics;
  /** This instance, in answers (`source.instance`) and its private group names. */
  instanceId: string;
  /** Where clients reach the repositories: the base of the `url` of `GET /api/repos`. */
  publicUrl: string;
  /** Serve the published repositories at `/repos/...` from the artifact store. */
  serveRepos: boolean;
  /** @default BuildView defaults (200,000 builds, 100 history entries each) */
  view?: BuildViewOptions;
  /** @default LiveLogs defaults (2,000 lines per build, 5,000 builds) */
  logs?: LiveLogsOptions;
  /** Caps on open event streams and followed logs, and the slow-reader limit. @default DEFAULT_STREAM_LIMITS */
  streams?: Partial<StreamLimits>;
  /**
   * Reading the events topic from its beginning counts as caught up when the end offsets taken at
   * start are reached, or after this long without a record (records that never reach the
   * handler, such as non-JSON ones, would otherwise keep it waiting).
   * @default 5000
   */
  catchUpQuietMs?: number;
  /** A `: keep-alive` comment goes to every event stream this often. @default 15000 */
  keepAliveMs?: number;
  /** After a build ended, its log followers wait this long for the final log chunk. @default 10000 */
  logSettleMs?: number;
  /** Answers `GET /api/graph`. @default none: the route answers 503 `sources-unconfigured` */
  graphs?: GraphSource;
}

export interface InfoService {
  readonly view: BuildView;
  readonly metrics: Metrics;
  /** True once the view has read the events topic up to where it was at start. */
  readonly caughtUp: boolean;
  /** Resolves when the view has caught up and the service answers queries. */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops intake, ends log followers and event streams. Idempotent; does not close the bus or store. */
  stop(): Promise<void>;
  /** The routes of the HTTP API (docs/api.md), for the shared HTTP layer (shared/http). */
  readonly routes: readonly HttpRoute[];
  /** An HTTP server for this service (and any extra routes), timed by its metrics. */
  listen(options: Omit<InfoHttpServerOptions, 'routes'>): Promise<InfoHttpServer>;
}

export function createInfoService(options: InfoServiceOptions): InfoService {
  const { bus, logger } = options;
  const topics = topicNames(bus.topicPrefix);
  const groups = consumerGroupNames(bus.topicPrefix);
  const metrics = options.metrics ?? createMetrics({ defaultLabels: { service: 'info-service' } });
  const view = new BuildView(options.view);
  // One gate: event streams and followed logs count against the same caps.
  const gate = new StreamGate(options.streams);
  const logs = new LiveLogs({ ...options.logs, gate });
  const events = new EventStream(undefined, gate);
  const source = { service: 'info-service', instance: options.instanceId };
  const quietMs = options.catchUpQuietMs ?? 5000;
  const settleMs = options.logSettleMs ?? 10_000;
  const settleTimers = new Map<string, NodeJS.Timeout>();
  const subscriptions: Subscription[] = [];
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  let caughtUp = false;
  let tracker: CatchUpTracker | undefined;
  let lastRecordAt = Date.now();
  let onCaughtUp: (() => void) | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;

  function markCaughtUp(how: string): void {
    if (caughtUp) return;
    caughtUp = true;
    logger.info({ builds: view.size, how, behind: tracker?.behind ?? [] }, 'info-service: view caught up');
    onCaughtUp?.();
  }

  function settleLater(buildId: string): void {
    if (settleTimers.has(buildId) || stopping) return;
    const timer = setTimeout(() => {
      settleTimers.delete(buildId);
      logs.settle(buildId);
    }, settleMs);
    timer.unref();
    settleTimers.set(buildId, timer);
  }

  function onEventRecord(record: BusRecord<unknown>): Promise<void> {
    lastRecordAt = Date.now();
    // Counted before decoding, so that a rejected record still counts towards the end offsets.
    const reached = tracker?.seen(record.partition, record.offset) ?? false;
    try {
      const event: BuildEvent = decodeMessage('build.event', record.value);
      const outcome = view.apply(event);
      metrics.builds.inc({ state: event.state });
      if (caughtUp) {
        events.publish(event);
        if (outcome.effect !== 'ignore' && (isAttemptFinalState(event.state) || isTerminalState(event.state))) {
          settleLater(event.buildId);
        }
      }
    } finally {
      if (reached) markCaughtUp('end offsets reached');
    }
    return Promise.resolve();
  }

  /** Waits until markCaughtUp, counting a quiet spell as caught up. */
  function caughtUpOrQuiet(signal: AbortSignal): Promise<void> {
    if (caughtUp) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = setInterval(
        () => {
          if (Date.now() - lastRecordAt >= quietMs) markCaughtUp(`no record for ${quietMs} ms`);
        },
        Math.min(250, quietMs),
      );
      const onAbort = (): void => {
        clearInterval(check);
        reject(new BuildfleetError('aborted', 'info-service: start aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      onCaughtUp = () => {
        clearInterval(check);
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
    });
  }

  const routes = createApiRoutes({
    view,
    logs,
    events,
    store: options.store,
    metrics,
    logger,
    publicUrl: options.publicUrl,
    serveRepos: options.serveRepos,
    isReady: () => caughtUp && stopping === undefined,
    publishSubmit: (message) => bus.publish(topics.submit, { key: message.project, value: message }),
    publishCancel: (message) => bus.publish(topics.control, { key: message.buildId, value: message }),
    ...(options.graphs ? { graphs: options.graphs } : {}),
  });

  /** Keeps a subscription for stop(); one that joined after stop() began is closed at once. */
  async function keep(joined: Subscription): Promise<Subscription> {
    subscriptions.push(joined);
    if (stopping) {
      await joined.close();
      throw new BuildfleetError('aborted', 'info-service: stopped while starting');
    }
    return joined;
  }

  async function start(signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    const aborted = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
    // Logs first and from now on: lines of builds that run while the view catches up are kept.
    const logIntake = await keep(
      await bus.subscribe<LogChunk>({
        name: groups.infoLogs(options.instanceId),
        topics: [topics.logs],
        start: 'now',
        decode: decoderFor('log.chunk'),
        handlerAttempts: 1,
        handle: (record) => {
          logs.add(record.value);
          return Promise.resolve();
        },
      }),
    );
    tracker = new CatchUpTracker(await bus.endOffsets(topics.events));
    // The decoder lets every JSON value through, so that the handler sees each offset; an
    // invalid event is rejected there (message-invalid, not retriable) and dead-lettered.
    const eventIntake = await keep(
      await bus.subscribe<unknown>({
        name: groups.infoEvents(options.instanceId),
        topics: [topics.events],
        start: 'earliest',
        decode: (value) => value,
        handlerAttempts: 1,
        handle: onEventRecord,
      }),
    );
    await Promise.all([logIntake.ready, eventIntake.ready]);
    lastRecordAt = Date.now();
    if (tracker.caughtUp) markCaughtUp('the events topic is empty');
    await caughtUpOrQuiet(aborted);
    const answering = await keep(
      await bus.serve<InfoQuery>({
        topic: topics.infoRequests,
        group: groups.info,
        decode: decoderFor('info.query'),
        handle: (record) => Promise.resolve(answerQuery(view, record.value, source)),
      }),
    );
    await answering.ready;
    keepAlive = setInterval(() => events.keepAlive(), options.keepAliveMs ?? 15_000);
    keepAlive.unref();
    logger.info({ builds: view.size }, 'info-service: answering queries');
  }

  return {
    view,
    metrics,
    get caughtUp() {
      return caughtUp;
    },
    start,
    stop: () =>
      (stopping ??= (async () => {
        abort.abort();
        clearInterval(keepAlive);
        await Promise.allSettled(subscriptions.map((s) => s.close()));
        for (const timer of settleTimers.values()) clearTimeout(timer);
        settleTimers.clear();
        logs.endAll();
        events.closeAll();
      })()),
    routes,
    listen: (serverOptions) =>
      createInfoHttpServer({ logger, requestDuration: metrics.httpRequestDuration, ...serverOptions, routes }),
  };
}
