import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle, instanceIdOf } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { storeFromConfig } from '../shared/storage/from-config.ts';
import { CollectorConfig } from './config.ts';
import { startCollectorService } from './service.ts';

/** `buildfleet collector --config <file>`: config -> logger, metrics, bus, store -> collector service -> lifecycle. */
export async function runCollectorService(options: { configFile?: string }): Promise<number> {
  const loaded = loadConfigWithSources(CollectorConfig, options.configFile ? { file: options.configFile } : {});
  const config = loaded.config;
  const instanceId = instanceIdOf(config.collector.id);
  const logger = createLogger({ name: 'collector', level: config.log.level, bindings: { instance: instanceId } });
  logger.info({ config: redactConfig(config), ignoredEnv: loaded.ignoredEnv }, 'collector: starting');
  const lifecycle = createLifecycle({ logger, graceMs: 30_000 });
  lifecycle.installSignalHandlers(process);

  return lifecycle.run(async (signal) => {
    if (config.metrics.enabled) {
      const metrics = createMetrics({ defaultLabels: { service: 'collector' } });
      const server = await startMetricsServer({
        registry: metrics.registry,
        port: config.metrics.port,
        host: config.metrics.host,
      });
      lifecycle.onShutdown('metrics server', () => server.close());
    }
    const bus = createBus({ ...config.bus, clientId: `collector-${instanceId}` }, logger);
    lifecycle.onShutdown('bus', () => bus.close());
    const store = await storeFromConfig(config.storage);
    lifecycle.onShutdown('store', () => store.close());
    const service = await startCollectorService(
      { ...config.collector, id: instanceId },
      { bus, store, logger, env: process.env, signal },
    );
    lifecycle.onShutdown('collector', () => service.stop(), { phase: 'drain' });
    logger.info('collector: ready');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
