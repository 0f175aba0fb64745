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
import { startCollectorService } from '../../collector/service.ts';
import type { InfoSettings } from '../../info-service/config.ts';
import { isLoopbackHost, startInfoService } from '../../info-service/service.ts';
import type { InfoService } from '../../info-service/info-service.ts';
import { startRunnerService } from '../../runner/service.ts';
import { startSchedulerService, type SchedulerService } from '../../scheduler/service.ts';
import { webhookRoute } from '../../scheduler/changes/webhook.ts';
import { createBus, EmbeddedBroker, plannedTopics, TopicsConfig, type Bus } from '../../shared/bus/index.ts';
import { loadConfig, type BusConfig } from '../../shared/config/index.ts';
import { createLifecycle, type Lifecycle } from '../../shared/lifecycle/index.ts';
import type { Logger } from '../../shared/log/index.ts';
import { createMetrics } from '../../shared/metrics/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { startPodmanService } from '../../infra/podman/service.ts';
import { ensureAdminToken } from './admin-token.ts';
import { upSettings } from './settings.ts';
import { prepareSources } from './sources-repo.ts';
import { upSigningKeyFile } from './signing-key.ts';

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
  /** Branch watched for changes. @default the scheduler's scheduler.sources.branch ('main') */
  branch?: string;
  /** @default 5000 (cli/up/settings.ts) */
  pollIntervalMs?: number;
  /** Build slots of the runner. @default the runner's runner.slots (1) */
  slots?: number;
  /** @default the runner's runner.buildroot ('auto') */
  buildroot?: 'auto' | 'container' | 'chroot' | 'host';
  /** Docker API socket; when nothing answers there, a Podman service is started in dataDir. */
  engineSocket?: string;
  /** Arches the runner builds. @default the runner's runner.arches (['x86_64']) */
  arches?: string[];
  /** @default the scheduler's scheduler.leaseMs (60000) */
  leaseMs?: number;
  logger: Logger;
  /**
   * Where every service registers its shutdown (`buildfleet up` passes the one its signals go
   * to). @default a lifecycle of its own, shut down by stop()
   */
  lifecycle?: Lifecycle;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /**
   * Anonymous requests may submit and cancel (`--insecure-local`; only on a loopback host).
   * @default false: anonymous requests may read (on loopback), submitting needs a token
   */
  insecureLocal?: boolean;
  /** Where the admin token is saved for the CLI (cli/client/credentials.ts). @default not saved */
  credentialsFile?: string;
}

export interface AllInOne {
  /** `http://host:port` of the API, events, dashboard and `/repos`. */
  readonly url: string;
  readonly sourcesUrl: string;
  readonly info: InfoService;
  readonly store: ArtifactStore;
  readonly scheduler: SchedulerService;
  /** The local admin token (admin-token.ts): tests and the banner use it. */
  readonly adminToken: string;
  /** What requests without a token may do. */
  readonly anonymous: InfoSettings['auth']['anonymous'];
  /** `<data>/tokens.json`, for `buildfleet tokens --file`. */
  readonly tokensFile: string;
  /** Stops every service: the lifecycle's shutdown (graceful, in order). Idempotent; failures are logged. */
  stop(): Promise<void>;
}

export async function startAllInOne(options: AllInOneOptions): Promise<AllInOne> {
  const { logger, signal } = options;
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir);
  const host = options.host ?? '127.0.0.1';
  const prefix = options.topicPrefix ?? 'buildfleet';
  const lifecycle = options.lifecycle ?? createLifecycle({ logger, graceMs: 30_000, exit: () => undefined });
  // Failed steps are logged by the lifecycle; stopping goes on with the next.
  const stop = (): Promise<void> => lifecycle.shutdown('up stopped').catch(() => undefined);
  const withSignal = signal ? { signal } : {};

  try {
    await mkdir(dataDir, { recursive: true });
    const sources = await prepareSources({ ...(options.sources ? { sources: options.sources } : {}), dataDir });
    const port = await freePort(host, options.port ?? 8080);
    const url = `http://${host}:${port}`;

    const broker = new EmbeddedBroker();
    const busConfig: BusConfig = options.brokers
      ? {
          type: 'kafka',
          brokers: options.brokers,
          clientId: 'buildfleet-up',
          topicPrefix: prefix,
          sessionTimeoutMs: 30_000,
        }
      : {
          type: 'embedded',
          brokers: ['embedded'],
          clientId: 'buildfleet-up',
          topicPrefix: prefix,
          sessionTimeoutMs: 30_000,
        };
    const newBus = (name: string): Bus => {
      const bus = createBus({ ...busConfig, clientId: `up-${name}` }, logger, { embeddedBroker: broker });
      lifecycle.onShutdown(`${name} bus`, () => bus.close());
      return bus;
    };
    const adminBus = newBus('admin');
    const topics = loadConfig(Type.Object({ topics: TopicsConfig }), { env: {} }).topics;
    topics.runnerGroups = [{ name: 'default', arches: options.arches ?? ['x86_64'], partitions: 4 }];
    await adminBus.ensureTopics(plannedTopics(prefix, topics));

    const store = await createFsArtifactStore({ root: join(dataDir, 'store') });
    lifecycle.onShutdown('store', () => store.close());

    const engineSocket = await ensureEngine(options, dataDir, lifecycle, logger);
    const signingKeyFile = await upSigningKeyFile(dataDir, env);
    const tokensFile = join(dataDir, 'tokens.json');
    const { token: adminToken } = await ensureAdminToken({ tokensFile, url, credentialsFile: options.credentialsFile });
    const anonymous = options.insecureLocal ? 'submit' : isLoopbackHost(host) ? 'read' : 'none';
    const settings = upSettings({
      dataDir,
      host,
      port,
      sourcesUrl: sources.url,
      ...pick(options, ['branch', 'pollIntervalMs', 'leaseMs', 'slots', 'arches', 'buildroot']),
      ...(engineSocket ? { engineSocket } : {}),
      ...(signingKeyFile ? { signingKeyFile } : {}),
      auth: { anonymous, tokensFile },
    });
    const metrics = createMetrics({ defaultLabels: { service: 'all-in-one' } });

    // The scheduler's push webhook on the API's port; it exists once the scheduler has started.
    const late: { webhook?: SchedulerService['webhook'] } = {};
    const info = await startInfoService(settings.info, {
      bus: newBus('info'),
      store,
      logger: logger.child({ service: 'info-service' }),
      metrics,
      extraRoutes: [webhookRoute(() => late.webhook)],
      ...withSignal,
    });
    lifecycle.onShutdown('info service', () => info.stop(), { phase: 'drain' });

    const collector = await startCollectorService(settings.collector, {
      bus: newBus('collector'),
      store,
      logger: logger.child({ service: 'collector' }),
      env,
      ...withSignal,
    });
    lifecycle.onShutdown('collector', () => collector.stop(), { phase: 'drain' });

    const runner = await startRunnerService(settings.runner, {
      bus: newBus('runner'),
      store,
      logger: logger.child({ service: 'runner', runnerId: 'up' }),
      metrics,
      env,
      // No engine answered (or the buildroot needs none): no container buildroot, no docker builds.
      ...(engineSocket ? {} : { noEngine: true }),
      // Buildroots trust our own repositories by the collector's key itself, not by the store's key.asc.
      ownRepositoriesKey: collector.signer.publicKeyArmored,
      ...withSignal,
    });
    lifecycle.onShutdown('runner', () => runner.stop(), { phase: 'drain' });

    const scheduler = await startSchedulerService(settings.scheduler, {
      bus: newBus('scheduler'),
      logger: logger.child({ service: 'scheduler' }),
      metrics,
      env,
      ...withSignal,
    });
    late.webhook = scheduler.webhook;
    lifecycle.onShutdown('scheduler', () => scheduler.stop(), { phase: 'drain' });
    return {
      url,
      sourcesUrl: sources.url,
      info: info.service,
      store,
      scheduler,
      adminToken,
      anonymous,
      tokensFile,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The options that are set, for the settings (exactOptionalPropertyTypes keeps absent keys absent). */
function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) picked[key] = from[key];
  return picked;
}

/** The engine socket to use: the configured one when it answers, else a Podman service of our own. */
async function ensureEngine(
  options: AllInOneOptions,
  dataDir: string,
  lifecycle: Lifecycle,
  logger: Logger,
): Promise<string | undefined> {
  if (options.buildroot === 'host' || options.buildroot === 'chroot') return undefined;
  const configured = options.engineSocket ?? '/run/podman/podman.sock';
  if (existsSync(configured) && (await pings(configured))) return configured;
  try {
    const socketPath = join(dataDir, 'run', 'podman.sock');
    const service = await startPodmanService({ socketPath, ...(options.signal ? { signal: options.signal } : {}) });
    lifecycle.onShutdown('podman service', () => service.stop());
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
