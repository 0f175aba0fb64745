import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle, instanceIdOf } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { storeFromConfig } from '../shared/storage/from-config.ts';
import { RunnerConfig } from './config.ts';
import { startRunnerService } from './service.ts';

/** `buildfleet runner --config <file>`: config -> logger, metrics, bus, store -> runner service -> lifecycle. */
export async function runRunnerService(options: { configFile?: string }): Promise<number> {
  const loaded = loadConfigWithSources(RunnerConfig, options.configFile ? { file: options.configFile } : {});
  const config = loaded.config;
  const runnerId = instanceIdOf(config.runner.id);
  const logger = createLogger({ name: 'runner', level: config.log.level, bindings: { runnerId } });
  logger.info({ config: redactConfig(config), ignoredEnv: loaded.ignoredEnv }, 'runner: starting');
  const lifecycle = createLifecycle({
    logger,
    graceMs: config.runner.graceMs,
    forceMs: config.runner.graceMs + 15_000,
  });
  lifecycle.installSignalHandlers(process);

  return lifecycle.run(async (signal) => {
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
    const service = await startRunnerService(
      { ...config.runner, id: runnerId },
      { bus, store, logger, metrics, env: process.env, signal },
    );
    lifecycle.onShutdown('runner', () => service.stop(), { phase: 'drain' });
    logger.info(
      { group: config.runner.group, arches: config.runner.arches, slots: config.runner.slots },
      'runner: ready',
    );
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
