/**
 * `buildfleet up`: every service in one process (DESIGN.md §9) — scheduler with change
 * detection, runner, collector and info service — on the embedded bus (or Kafka with
 * `brokers`), with a filesystem artifact store, serving the API, live events and the
 * repositories on one HTTP port. docs/all-in-one.md describes it for users.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import Docker from 'dockerode';
import { createCollector } from '../../collector/collector.ts';
import { createSigner } from '../../collector/signing/index.ts';
import { createGraphSource } from '../../info-service/graph-source.ts';
import { createInfoService, type InfoService } from '../../info-service/info-service.ts';
import { chooseBuildroot } from '../../runner/buildroot/index.ts';
import { builderFor, LOCAL_IMAGES } from '../../runner/builders/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { createRunner } from '../../runner/runner.ts';
import { startSchedulerService, type SchedulerService } from '../../scheduler/service.ts';
import { createBus, EmbeddedBroker, plannedTopics, TopicsConfig, type Bus } from '../../shared/bus/index.ts';
import { loadConfig, type BusConfig } from '../../shared/config/index.ts';
import type { Logger } from '../../shared/log/index.ts';
import { createMetrics } from '../../shared/metrics/index.ts';
import { createSourceMirror } from '../../shared/sources/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { startPodmanService } from '../../infra/podman/service.ts';
import { prepareSources } from './sources-repo.ts';
import { upSigningKey } from './signing-key.ts';

export interface AllInOneOptions {
  /** Everything the cluster keeps: sources (when made from the examples), store, caches, key. */
  dataDir: string;
  /** A git URL or directory; @default a git repository made from examples/sources in dataDir */
  sources?: string;
  /** @default 8080; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Kafka bootstrap brokers; absent: the embedded bus. */
  brokers?: string[];
  /** @default 'buildfleet' */
  topicPrefix?: string;
  /** Branch watched for changes. @default 'main' */
  branch?: string;
  /** @default 5000 */
  pollIntervalMs?: number;
  /** Build slots of the runner. @default 1 */
  slots?: number;
  /** @default 'auto' */
  buildroot?: 'auto' | 'container' | 'chroot' | 'host';
  /** Docker API socket; when nothing answers there, a Podman service is started in dataDir. */
  engineSocket?: string;
  /** Arches the runner builds. @default ['x86_64'] */
  arches?: string[];
  /** @default 60000 */
  leaseMs?: number;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface AllInOne {
  /** `http://host:port` of the API, events, dashboard and `/repos`. */
  readonly url: string;
  readonly sourcesUrl: string;
  readonly info: InfoService;
  readonly store: ArtifactStore;
  readonly scheduler: SchedulerService;
  /** Stops every service (graceful, in order). Idempotent. */
  stop(): Promise<void>;
}

export async function startAllInOne(options: AllInOneOptions): Promise<AllInOne> {
  const { logger } = options;
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir);
  const host = options.host ?? '127.0.0.1';
  const prefix = options.topicPrefix ?? 'buildfleet';
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  const onStop = (name: string, stop: () => Promise<void>): void => void stops.unshift({ name, stop });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const { name, stop: s } of stops) {
        await s().catch((error: unknown) => logger.warn({ err: error, part: name }, 'up: stopping a part failed'));
      }
    })());

  try {
    await mkdir(dataDir, { recursive: true });
    const sources = await prepareSources({ ...(options.sources ? { sources: options.sources } : {}), dataDir });
    const port = await freePort(host, options.port ?? 8080);
    const url = `http://${host}:${port}`;
    const publicUrl = `${url}/repos`;

    const broker = new EmbeddedBroker();
    const busConfig: BusConfig = options.brokers
      ? {
          type: 'kafka',
          brokers: options.brokers,
          clientId: 'buildfleet-up',
          topicPrefix: prefix,
          ssl: false,
          sessionTimeoutMs: 30_000,
        }
      : {
          type: 'embedded',
          brokers: ['embedded'],
          clientId: 'buildfleet-up',
          topicPrefix: prefix,
          ssl: false,
          sessionTimeoutMs: 30_000,
        };
    const newBus = (name: string): Bus => {
      const bus = createBus({ ...busConfig, clientId: `up-${name}` }, logger, { embeddedBroker: broker });
      onStop(`${name} bus`, () => bus.close());
      return bus;
    };
    const adminBus = newBus('admin');
    const topics = loadConfig(Type.Object({ topics: TopicsConfig }), { env: {} }).topics;
    topics.runnerGroups = [{ name: 'default', arches: options.arches ?? ['x86_64'], partitions: 4 }];
    await adminBus.ensureTopics(plannedTopics(prefix, topics));

    const store = await createFsArtifactStore({ root: join(dataDir, 'store') });
    onStop('store', () => store.close());

    const metrics = createMetrics({ defaultLabels: { service: 'all-in-one' } });
    const info = createInfoService({
      bus: newBus('info'),
      store,
      logger: logger.child({ service: 'info-service' }),
      metrics,
      instanceId: 'up',
      publicUrl,
      serveRepos: true,
      graphs: createGraphSource({
        url: sources.url,
        branch: options.branch ?? 'main',
        workDir: join(dataDir, 'work', 'info-service'),
        logger: logger.child({ service: 'info-service' }),
      }),
    });
    const late: { webhook?: SchedulerService['webhook'] } = {};
    const server = await info.listen({
      host,
      port,
      logger,
      extraRoutes: [
        {
          method: 'POST',
          prefix: '/hooks/git',
          handle: (request, response) => {
            if (late.webhook) late.webhook(request, response);
            else
              response.writeHead(404, { 'content-type': 'application/json' }).end(
                JSON.stringify({
                  error: { code: 'not-found', message: 'no webhook: set BUILDFLEET_WEBHOOK_SECRET' },
                }),
              );
          },
        },
      ],
    });
    onStop('http server', () => server.close());
    onStop('info service', () => info.stop());
    await info.start(options.signal);

    const workDir = join(dataDir, 'work');
    await mkdir(join(workDir, 'collector'), { recursive: true });
    const signer = await createSigner({
      armoredPrivateKey: await upSigningKey(dataDir, env),
      workDir: join(workDir, 'collector'),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    onStop('signer', () => signer.close());
    const collector = createCollector({
      instanceId: 'up',
      bus: newBus('collector'),
      store,
      signer,
      logger: logger.child({ service: 'collector' }),
      publicUrl,
      workDir: join(workDir, 'collector', 'versions'),
      keepVersions: 3,
      coalesceMs: 200,
    });
    await collector.start();
    onStop('collector', () => collector.stop());

    const engineSocket = await ensureEngine(options, dataDir, onStop, logger);
    const runnerLogger = logger.child({ service: 'runner', runnerId: 'up' });
    await mkdir(join(workDir, 'runner'), { recursive: true });
    const runner = createRunner({
      runnerId: 'up',
      group: 'default',
      arches: options.arches ?? ['x86_64'],
      slots: options.slots ?? 1,
      heartbeatMs: 5000,
      graceMs: 10_000,
      bus: newBus('runner'),
      logger: runnerLogger,
      metrics,
      job: {
        sources: createSourceMirror({ cacheDir: join(dataDir, 'cache', 'git'), logger: runnerLogger }),
        store,
        buildroot: await chooseBuildroot({
          preferred: options.buildroot ?? 'auto',
          ...(engineSocket ? { engine: createDockerodeEngine({ socketPath: engineSocket }) } : {}),
          cacheDir: join(dataDir, 'cache', 'buildroots'),
          logger: runnerLogger,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
        // No registry in the one-machine mode: docker images stay in the engine (LOCAL_IMAGES).
        builderFor: (kind) =>
          builderFor(
            kind,
            engineSocket
              ? {
                  docker: {
                    engine: createDockerodeEngine({ socketPath: engineSocket }),
                    registry: LOCAL_IMAGES,
                    tmpDir: join(dataDir, 'cache', 'docker-tmp'),
                  },
                }
              : {},
          ),
        workDir: join(workDir, 'runner'),
        limits: { memoryMb: 4096, pids: 4096, timeoutMinutes: 120 },
        // Buildroots trust our own repositories by the collector's key itself, not by the store's key.asc.
        ownRepositoriesKey: signer.publicKeyArmored,
      },
    });
    await runner.start();
    onStop('runner', () => runner.stop());

    const scheduler = await startSchedulerService({
      settings: {
        leaseMs: options.leaseMs ?? 60_000,
        maxAttempts: 3,
        checkIntervalMs: 1000,
        workDir: join(workDir, 'scheduler'),
        sources: {
          url: sources.url,
          branch: options.branch ?? 'main',
          pollIntervalMs: options.pollIntervalMs ?? 5000,
          webhookSecretEnv: 'BUILDFLEET_WEBHOOK_SECRET',
        },
      },
      instanceId: 'up',
      bus: newBus('scheduler'),
      logger: logger.child({ service: 'scheduler' }),
      metrics,
      env,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    late.webhook = scheduler.webhook;
    onStop('scheduler', () => scheduler.stop());
    return { url, sourcesUrl: sources.url, info, store, scheduler, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The engine socket to use: the configured one when it answers, else a Podman service of our own. */
async function ensureEngine(
  options: AllInOneOptions,
  dataDir: string,
  onStop: (name: string, stop: () => Promise<void>) => void,
  logger: Logger,
): Promise<string | undefined> {
  if (options.buildroot === 'host' || options.buildroot === 'chroot') return undefined;
  const configured = options.engineSocket ?? '/run/podman/podman.sock';
  if (existsSync(configured) && (await pings(configured))) return configured;
  try {
    const socketPath = join(dataDir, 'run', 'podman.sock');
    const service = await startPodmanService({ socketPath, ...(options.signal ? { signal: options.signal } : {}) });
    onStop('podman service', () => service.stop());
    logger.info({ socketPath }, 'up: started a Podman service for container buildroots');
    return socketPath;
  } catch (error) {
    logger.warn({ err: error }, 'up: no container engine; the runner picks another buildroot');
    return undefined;
  }
}

async function pings(socketPath: string): Promise<boolean> {
  try {
    await new Docker({ socketPath, timeout: 3000 }).ping();
    return true;
  } catch {
    return false;
  }
}

function freePort(host: string, wanted: number | undefined): Promise<number> {
  if (wanted !== undefined && wanted !== 0) return Promise.resolve(wanted);
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}
