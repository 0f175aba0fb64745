import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { createSourceMirror } from '../shared/sources/index.ts';
import { storeFromConfig } from '../shared/storage/from-config.ts';
import { chooseBuildroot } from './buildroot/index.ts';
import { builderFor, dockerRegistryFrom, LOCAL_IMAGES, type BuilderSettings } from './builders/index.ts';
import { RunnerConfig } from './config.ts';
import { createDockerodeEngine } from './engine/index.ts';
import { createRunner } from './runner.ts';

/** `buildfleet runner --config <file>`: wires config -> adapters -> runner -> signals, and runs. */
export async function runRunnerService(options: { configFile?: string }): Promise<number> {
  const loaded = loadConfigWithSources(RunnerConfig, options.configFile ? { file: options.configFile } : {});
  const config = loaded.config;
  const runnerId = config.runner.id ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ name: 'runner', level: config.log.level, bindings: { runnerId } });
  logger.info({ config: redactConfig(config), ignoredEnv: loaded.ignoredEnv }, 'runner: starting');
  const lifecycle = createLifecycle({
    logger,
    graceMs: config.runner.graceMs,
    forceMs: config.runner.graceMs + 15_000,
  });
  lifecycle.installSignalHandlers(process);

  return lifecycle.run(async (signal) => {
    const workDir = resolve(config.runner.workDir);
    const cacheDir = resolve(config.runner.cacheDir);
    await mkdir(workDir, { recursive: true });
    const metrics = createMetrics({ defaultLabels: { service: 'runner' } });
    if (config.metrics.enabled) {
      const server = await startMetricsServer({
        registry: metrics.registry,
        port: config.metrics.port,
        host: config.metrics.host,
      });
      lifecycle.onShutdown('metrics server', () => server.close());
      logger.info({ url: server.url }, 'runner: metrics served');
    }
    const bus = createBus({ ...config.bus, clientId: `runner-${runnerId}` }, logger);
    lifecycle.onShutdown('bus', () => bus.close());
    const store = await storeFromConfig(config.storage);
    lifecycle.onShutdown('store', () => store.close());
    const engine = createDockerodeEngine({ socketPath: config.runner.engineSocket });
    // Credentials come from the variables runner.docker names; they are read here, once, and never logged.
    // Without runner.docker, docker images are built into this runner's engine only (LOCAL_IMAGES).
    const builderSettings: BuilderSettings =
      config.runner.docker === undefined
        ? { docker: { engine, registry: LOCAL_IMAGES, tmpDir: `${cacheDir}/buildroots/tmp` } }
        : {
            docker: {
              engine,
              registry: dockerRegistryFrom(config.runner.docker, process.env),
              tmpDir: `${cacheDir}/buildroots/tmp`,
            },
          };
    const pushAuth = builderSettings.docker?.registry.auth;
    const buildroot = await chooseBuildroot({
      preferred: config.runner.buildroot,
      engine,
      // Image dists' base images may live in the group's registry: its credentials serve pulls too.
      containerPulls: {
        registryAuths: pushAuth === undefined ? [] : [pushAuth],
        basePull: {
          tags: config.runner.baseImagePull.tags,
          maxAgeMs: Math.round(config.runner.baseImagePull.maxAgeMinutes * 60_000),
        },
      },
      cacheDir: `${cacheDir}/buildroots`,
      logger,
      signal,
    });
    logger.info(
      { buildroot: buildroot.kind, dockerRegistry: config.runner.docker?.registry ?? null },
      'runner: buildroot chosen',
    );
    const runner = createRunner({
      runnerId,
      group: config.runner.group,
      arches: config.runner.arches,
      slots: config.runner.slots,
      heartbeatMs: config.runner.heartbeatMs,
      graceMs: config.runner.graceMs,
      bus,
      logger,
      metrics,
      job: {
        sources: createSourceMirror({ cacheDir: `${cacheDir}/git`, logger }),
        store,
        buildroot,
        builderFor: (kind) => builderFor(kind, builderSettings),
        workDir,
        limits: config.runner.limits,
        ...(config.runner.ownRepositoriesKeyFile === undefined
          ? {}
          : { ownRepositoriesKey: await readFile(resolve(config.runner.ownRepositoriesKeyFile), 'utf8') }),
      },
    });
    lifecycle.onShutdown('runner', () => runner.stop(), { phase: 'drain' });
    await runner.start();
    logger.info(
      { group: config.runner.group, arches: config.runner.arches, slots: config.runner.slots },
      'runner: ready',
    );
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
