/**
 * A cluster on a real broker, services in this process: the parts the integration tests and the
 * benches put together (a bus with the test topics, the build events recorded, a store, a
 * collector with a test signing key, runners, the repositories served over HTTP). The scheduler
 * cluster of noop packages is noop-cluster.ts; the all-in-one as a process is all-in-one.ts.
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Collector } from '../../collector/collector.ts';
import { CollectorSettings } from '../../collector/config.ts';
import { startCollectorService } from '../../collector/service.ts';
import { chooseBuildroot, type Buildroot } from '../../runner/buildroot/index.ts';
import { builderFor } from '../../runner/builders/index.ts';
import type { BuildJobDeps } from '../../runner/job/build-job.ts';
import { createRunner, type Runner } from '../../runner/runner.ts';
import type { Bus } from '../../shared/bus/index.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { loadConfig } from '../../shared/config/index.ts';
import {
  topicNames,
  type BuildEvent,
  type BuildRequest,
  type LogChunk,
  type TopicNames,
} from '../../shared/messages/index.ts';
import { createRepoRequestHandler } from '../../shared/repos/http.ts';
import { createSourceMirror } from '../../shared/sources/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { testTopics } from './cluster-fixtures.ts';
import { eventReached, recordTopic } from './events.ts';
import { testGitRepos, type TestGitRepos } from './git.ts';
import { testSigningKey } from './gpg.ts';
import { uniqueName } from './names.ts';
import { testS3Store, type TestS3 } from './s3.ts';

/** The tests' logger: silent unless BUILDFLEET_TEST_LOG names a level. */
export function testLogger(): Logger {
  return pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
}

/** The published repositories of `store` over HTTP on 127.0.0.1 (404 elsewhere); `url` ends in `/repos`. */
export async function serveRepos(store: ArtifactStore): Promise<{ url: string; close: () => Promise<void> }> {
  const handle = createRepoRequestHandler(store);
  const server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/repos`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface TestCollectorOptions {
  bus: Bus;
  store: ArtifactStore;
  logger: Logger;
  publicUrl: string;
  /** Its work dir (the signer's keyring, the versions it writes) is `<dir>/collector`. */
  dir: string;
  instanceId?: string;
  /** @default 2 */
  keepVersions?: number;
  /** @default 100 */
  coalesceMs?: number;
}

/** A started collector signing with the test key, composed as `buildfleet collector` does; stop() stops it and the signer. */
export async function startTestCollector(
  options: TestCollectorOptions,
): Promise<{ collector: Collector; stop(): Promise<void> }> {
  const settings = loadConfig(CollectorSettings, {
    env: {},
    defaults: {
      id: options.instanceId ?? 'test-collector',
      publicUrl: options.publicUrl,
      workDir: join(options.dir, 'collector'),
      keepVersions: options.keepVersions ?? 2,
      coalesceMs: options.coalesceMs ?? 100,
      retryMs: 1000,
    },
  });
  const { bus, store, logger } = options;
  const env = { BUILDFLEET_SIGNING_KEY: (await testSigningKey()).armoredPrivateKey };
  return startCollectorService(settings, { bus, store, logger, env });
}

export interface TestRunnerOptions {
  bus: Bus;
  store: ArtifactStore;
  logger: Logger;
  /** Its git cache, buildroot cache and build dirs go below. */
  dir: string;
  id: string;
  /** @default 2 */
  slots?: number;
  /** @default 2000 */
  graceMs?: number;
  /** @default 1000 */
  heartbeatMs?: number;
  /** @default the host buildroot */
  buildroot?: Buildroot;
  /** @default builderFor with no options */
  builderFor?: BuildJobDeps['builderFor'];
  /** Memory (MB) and pids of a build. @default 1024 */
  limit?: number;
}

/** A started runner of group `default` for x86_64. */
export async function startTestRunner(options: TestRunnerOptions): Promise<Runner> {
  await mkdir(join(options.dir, 'work'), { recursive: true });
  const runner = createRunner({
    runnerId: options.id,
    group: 'default',
    arches: ['x86_64'],
    slots: options.slots ?? 2,
    heartbeatMs: options.heartbeatMs ?? 1000,
    graceMs: options.graceMs ?? 2000,
    bus: options.bus,
    logger: options.logger,
    job: {
      sources: createSourceMirror({ cacheDir: join(options.dir, 'git'), logger: options.logger }),
      store: options.store,
      buildroot:
        options.buildroot ??
        (await chooseBuildroot({ preferred: 'host', cacheDir: join(options.dir, 'cache'), logger: options.logger })),
      builderFor: options.builderFor ?? builderFor,
      workDir: join(options.dir, 'work'),
      limits: { memoryMb: options.limit ?? 1024, pids: options.limit ?? 1024, timeoutMinutes: 20 },
    },
  });
  await runner.start();
  return runner;
}

export interface TestCluster {
  logger: Logger;
  prefix: string;
  topics: TopicNames;
  /** The bus of the test, shared by the services it starts. */
  bus: Bus;
  /** Every build event since the cluster started. */
  events: BuildEvent[];
  /** Every log chunk since the cluster started, when asked for (`logs: true`). */
  logs: LogChunk[];
  repos: TestGitRepos;
  /** A temp dir of the cluster's (removed by stop()). */
  work: string;
  store: ArtifactStore;
  /** Runs `cleanup` in stop(), the last one registered first. */
  defer(cleanup: () => Promise<unknown>): void;
  /** Serves the store's repositories over HTTP until stop(): the public URL (ends in `/repos`). */
  serveRepos(): Promise<string>;
  startCollector(options: Omit<TestCollectorOptions, 'bus' | 'store' | 'logger' | 'dir'>): Promise<Collector>;
  startRunner(options: Omit<TestRunnerOptions, 'bus' | 'store' | 'logger' | 'dir'>): Promise<Runner>;
  /** Produces the request to its runner group's topic, as the scheduler does. */
  request(r: BuildRequest): Promise<void>;
  /** Produces a control.cancel of the build. */
  cancel(buildId: string): Promise<void>;
  /** The first event of the build in one of the states, waiting for it. */
  reached(
    buildId: string,
    states: ReadonlySet<string> | readonly string[],
    timeoutMs?: number,
    intervalMs?: number,
  ): Promise<BuildEvent>;
  stop(): Promise<void>;
}

/**
 * A bus on `brokers` with every topic of the design under a new prefix (testTopics), the events
 * (and logs) recorded, a git repos dir and a store: in an S3 bucket of its own on `s3`, else in
 * the filesystem. Services are started on demand; stop() stops all in reverse order.
 */
export async function startTestCluster(options: {
  brokers: string[];
  /** Short, names the prefix, the temp dirs, the bucket and the consumer groups. */
  name: string;
  s3?: TestS3;
  /** Partitions of the request, event and log topics. @default 1 */
  partitions?: number;
  /** Record the log chunks too. */
  logs?: boolean;
}): Promise<TestCluster> {
  const logger = testLogger();
  const prefix = uniqueName(options.name);
  const topics = topicNames(prefix);
  const cleanups: Array<() => Promise<unknown>> = [];
  const defer = (cleanup: () => Promise<unknown>) => void cleanups.push(cleanup);
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const repos = await testGitRepos(`buildfleet-${options.name}-`);
    defer(() => repos.cleanup());
    const work = await repos.tempDir('work');
    let store: ArtifactStore;
    if (options.s3) {
      const s3Store = await testS3Store(options.s3, options.name);
      defer(() => s3Store.remove());
      store = s3Store.store;
    } else {
      store = await createFsArtifactStore({ root: join(work, 'store') });
      defer(() => store.close());
    }
    const bus = createKafkaBus({
      brokers: options.brokers,
      clientId: `${options.name}-test`,
      topicPrefix: prefix,
      logger,
      heartbeatIntervalMs: 500,
    });
    defer(() => bus.close());
    await bus.ensureTopics(testTopics(prefix, options.partitions ?? 1));
    const name = `${options.name}-test`;
    const [events, logs] = await Promise.all([
      recordTopic(bus, { name: `${name}-events`, topic: topics.events, type: 'build.event' }),
      options.logs
        ? recordTopic(bus, { name: `${name}-logs`, topic: topics.logs, type: 'log.chunk' })
        : { values: [], subscription: undefined },
    ]);
    let services = 0;
    const serviceDir = async (id: string) => {
      services += 1;
      const dir = join(work, `${services}-${id}`);
      await mkdir(dir, { recursive: true });
      return dir;
    };
    return {
      logger,
      prefix,
      topics,
      bus,
      events: events.values,
      logs: logs.values,
      repos,
      work,
      store,
      defer,
      async serveRepos() {
        const server = await serveRepos(store);
        defer(() => server.close());
        return server.url;
      },
      async startCollector(collectorOptions) {
        const id = collectorOptions.instanceId ?? `${options.name}-collector`;
        const started = await startTestCollector({
          ...collectorOptions,
          instanceId: id,
          bus,
          store,
          logger,
          dir: await serviceDir(id),
        });
        defer(() => started.stop());
        return started.collector;
      },
      async startRunner(runnerOptions) {
        const runner = await startTestRunner({
          ...runnerOptions,
          bus,
          store,
          logger,
          dir: await serviceDir(runnerOptions.id),
        });
        defer(() => runner.stop());
        return runner;
      },
      async request(r) {
        await bus.publish(topics.requests(r.runnerGroup, r.target.arch), { key: r.buildKey, value: r });
      },
      async cancel(buildId) {
        await bus.publish(topics.control, {
          key: buildId,
          value: { v: 1, type: 'control.cancel', buildId, reason: 'test cancel', at: new Date().toISOString() },
        });
      },
      reached: (buildId, states, timeoutMs, intervalMs) =>
        eventReached(events.values, buildId, states, timeoutMs, intervalMs),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
