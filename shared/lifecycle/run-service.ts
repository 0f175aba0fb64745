/**
 * The start-up every service's main.ts shares: config (file and environment) -> instance id ->
 * logger -> the redacted config logged -> a lifecycle with signal handlers, which runs the
 * service's own wiring and ends the process with its exit code.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { createBus, type Bus } from '../bus/index.ts';
import {
  loadConfigWithSources,
  redactConfig,
  type BusConfig,
  type LogConfig,
  type StorageConfig,
} from '../config/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import type { ArtifactStore } from '../storage/index.ts';
import { storeFromConfig } from '../storage/from-config.ts';
import { instanceIdOf } from './instance-id.ts';
import { createLifecycle, type Lifecycle } from './lifecycle.ts';

export interface ServiceStart<S extends TSchema> {
  /** The logger's name, the prefix of its log lines and of its bus client id: 'collector'... */
  name: string;
  /** The service's config schema (serviceConfig in shared/config); it has a `log:` section. */
  schema: S;
  /** The `--config` file. @default no file */
  configFile?: string;
  /** The configured instance id (`<service>.id`); unset means `<hostname>-<pid>`. */
  configuredId: (config: Static<S>) => string | undefined;
  /** Fields on every log line that name the instance. @default { instance: <instance id> } */
  bindings?: (instanceId: string) => Record<string, string>;
  /** The lifecycle's deadlines. @default { graceMs: 30_000 } */
  deadlines?: (config: Static<S>) => { graceMs: number; forceMs?: number };
}

/** What a service's wiring gets from runService. */
export interface ServiceContext<C> {
  config: C;
  instanceId: string;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Aborts when shutdown starts. */
  signal: AbortSignal;
  /** A bus client `<name>-<instance id>`, closed on shutdown. */
  openBus(config: BusConfig): Bus;
  /** The artifact store, closed on shutdown. */
  openStore(config: StorageConfig): Promise<ArtifactStore>;
}

/**
 * Starts a service as its main.ts does: logs `<name>: starting` with the redacted config, runs
 * `wire` under a lifecycle whose signal handlers are installed, then waits for shutdown. Resolves
 * with the exit code: 0 after a clean shutdown, 1 after a failure.
 */
export async function runService<S extends TSchema & { static: { log: LogConfig } }>(
  start: ServiceStart<S>,
  wire: (context: ServiceContext<Static<S>>) => Promise<void>,
): Promise<number> {
  const loaded = loadConfigWithSources(start.schema, start.configFile ? { file: start.configFile } : {});
  const config = loaded.config;
  const instanceId = instanceIdOf(start.configuredId(config));
  const bindings = start.bindings?.(instanceId) ?? { instance: instanceId };
  const logger = createLogger({ name: start.name, level: config.log.level, bindings });
  logger.info({ config: redactConfig(config), ignoredEnv: loaded.ignoredEnv }, `${start.name}: starting`);
  const lifecycle = createLifecycle({ logger, ...(start.deadlines?.(config) ?? { graceMs: 30_000 }) });
  lifecycle.installSignalHandlers(process);

  return lifecycle.run(async (signal) => {
    await wire({
      config,
      instanceId,
      logger,
      lifecycle,
      signal,
      openBus: (busConfig) => {
        const bus = createBus({ ...busConfig, clientId: `${start.name}-${instanceId}` }, logger);
        lifecycle.onShutdown('bus', () => bus.close());
        return bus;
      },
      openStore: async (storageConfig) => {
        const store = await storeFromConfig(storageConfig);
        lifecycle.onShutdown('store', () => store.close());
        return store;
      },
    });
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
