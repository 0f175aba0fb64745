import { setMaxListeners } from 'node:events';
import type { Logger } from '../shared/log/index.ts';
import type { Bus, Subscription } from '../shared/bus/index.ts';
import { toBuildfleetError } from '../shared/errors/index.ts';
import {
  buildEvent,
  consumerGroupNames,
  decoderFor,
  identityOf,
  routeOf,
  topicNames,
  type BuildEvent,
  type ErrorInfo,
  type PublishedRepo,
} from '../shared/messages/index.ts';
import type { RepoFormat } from '../shared/repos/layout.ts';
import { readPointer } from '../shared/repos/pointer.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';
import { PendingBuilds } from './pending.ts';
import { publishNextVersion, repoFormatOf } from './repo-builder.ts';
import type { Signer } from './signing/index.ts';

export interface CollectorOptions {
  instanceId: string;
  bus: Bus;
  store: ArtifactStore;
  signer: Signer;
  logger: Logger;
  /** Where clients reach the repositories: `<publicUrl>/<repoKey>/<format>`. */
  publicUrl: string;
  workDir: string;
  /** Versions of a package kept in the pool. */
  keepVersions: number;
  /** A success waits this long for others of the same repository, so a burst is one publish. */
  coalesceMs: number;
  /** Retry delay after a failed publish. @default 5000 */
  retryMs?: number;
}

export interface Collector {
  start(): Promise<void>;
  /** Waits for publishes in progress, stops intake. Idempotent. */
  stop(): Promise<void>;
}

interface RepoQueue {
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  again: boolean;
}

/** What the collector tells of a build: its repository version, or why it could not be published. */
type Announcement = { state: 'published'; repo: PublishedRepo } | { state: 'failed'; error: ErrorInfo };

/** Builds whose `published` a collector remembers, so that a success delivered twice is told once. */
const ANNOUNCED_KEPT = 100_000;
/**
 * The collector service: `succeeded` events of the builds whose repository it owns (events are
 * keyed by repo key, so one member of the shared group owns each repository) become new signed
 * repository versions, published atomically, then a `published` event per build.
 */
export function createCollector(options: CollectorOptions): Collector {
  const { bus, logger } = options;
  const topics = topicNames(bus.topicPrefix);
  const pending = new PendingBuilds(options.store);
  const queues = new Map<string, RepoQueue>();
  const abort = new AbortController();
  // Every download, upload and tool run of a publish listens on it; dozens at once is normal.
  setMaxListeners(0, abort.signal);
  let intake: Subscription | undefined;
  let stopping: Promise<void> | null = null;

  const announce = (event: BuildEvent, news: Announcement): Promise<void> => {
    const { topic, record } = routeOf(
      topics,
      buildEvent({
        ...identityOf(event),
        source: { service: 'collector', instance: options.instanceId },
        submitId: event.submitId,
        commit: event.commit,
        ...news,
      }),
    );
    return bus.publish(topic, record);
  };

  function schedule(repoKey: string, format: RepoFormat, delayMs: number): void {
    const id = `${format}\0${repoKey}`;
    const queue = queues.get(id) ?? { timer: undefined, running: undefined, again: false };
    queues.set(id, queue);
    if (queue.running) {
      queue.again = true;
      return;
    }
    if (queue.timer || abort.signal.aborted) return;
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      queue.running = publish(repoKey, format).finally(() => {
        queue.running = undefined;
        if (queue.again) {
          queue.again = false;
          schedule(repoKey, format, options.coalesceMs);
        } else if (!queue.timer) queues.delete(id);
      });
    }, delayMs);
  }

  async function publish(repoKey: string, format: RepoFormat): Promise<void> {
    const log = logger.child({ repoKey, format });
    try {
      const waiting = await pending.list({ repoKey, format });
      if (waiting.length === 0) return;
      const builds = waiting.map((w) => w.event);
      const url = `${options.publicUrl.replace(/\/$/, '')}/${repoKey}/${format}`;
      const result = await publishNextVersion({
        store: options.store,
        signer: options.signer,
        repoKey,
        format,
        dist: builds[0]?.target.dist ?? '',
        builds,
        workDir: options.workDir,
        keepVersions: options.keepVersions,
        repoUrl: url,
        signal: abort.signal,
      });
      for (const r of result.rejected) {
        log.warn({ buildId: r.event.buildId, code: r.code }, r.message);
        await announce(r.event, { state: 'failed', error: { code: r.code, message: r.message } });
      }
      const live = result.version ?? (await currentVersion(repoKey, format));
      const done = 'included' in result ? [...result.included, ...result.already] : result.already;
      if (live !== undefined) {
        for (const event of done) {
          // A success delivered again (after a restart, its offset not committed) while its first
          // copy was being published is in the repository already: told once by this process.
          if (announced.has(event.buildId)) continue;
          await announce(event, { state: 'published', repo: { url, version: live } });
          remember(event.buildId);
        }
      }
      for (const event of builds) await pending.remove(format, event);
      log.info(
        { version: result.version, builds: done.length, rejected: result.rejected.length },
        'collector: published',
      );
    } catch (error) {
      if (abort.signal.aborted) return;
      log.error({ err: toBuildfleetError(error) }, 'collector: publish failed, will retry');
      setTimeout(() => schedule(repoKey, format, 0), options.retryMs ?? 5000).unref();
    }
  }

  /** Builds this process announced `published` (the latest ANNOUNCED_KEPT). */
  const announced = new Set<string>();
  function remember(buildId: string): void {
    announced.add(buildId);
    if (announced.size > ANNOUNCED_KEPT) {
      const oldest = announced.values().next().value;
      if (oldest !== undefined) announced.delete(oldest);
    }
  }

  async function currentVersion(repoKey: string, format: RepoFormat): Promise<string | undefined> {
    return (await readPointer(options.store, repoKey, format))?.version;
  }

  async function onEvent(event: BuildEvent): Promise<void> {
    if (event.state !== 'succeeded') return;
    const format = repoFormatOf(event);
    if (!format) return;
    await pending.add(format, event);
    schedule(event.repoKey, format, options.coalesceMs);
  }

  return {
    async start() {
      // Successes accepted before a crash or restart are published first.
      for (const { format, event } of await pending.list()) schedule(event.repoKey, format, 0);
      intake = await bus.consume<BuildEvent>({
        topics: [topics.events],
        group: consumerGroupNames(bus.topicPrefix).collector,
        decode: decoderFor('build.event'),
        handle: (record) => onEvent(record.value),
      });
      await intake.ready;
    },
    stop: () =>
      (stopping ??= (async () => {
        await intake?.close();
        for (const queue of queues.values()) clearTimeout(queue.timer);
        await Promise.all([...queues.values()].flatMap((q) => (q.running ? [q.running] : [])));
        abort.abort();
      })()),
  };
}
