import { runService } from '../shared/lifecycle/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { CollectorConfig } from './config.ts';
import { startCollectorService } from './service.ts';

/** `buildfleet collector --config <file>`: config -> logger, metrics, bus, store -> collector service -> lifecycle. */
export function runCollectorService(options: { configFile?: string }): Promise<number> {
  return runService(
    { name: 'collector', schema: CollectorConfig, ...options, configuredId: (config) => config.collector.id },
    async (context) => {
      const { config, instanceId, logger, lifecycle, signal } = context;
      if (config.metrics.enabled) {
        const metrics = createMetrics({ defaultLabels: { service: 'collector' } });
        const server = await startMetricsServer({
          registry: metrics.registry,
          port: config.metrics.port,
          host: config.metrics.host,
        });
        lifecycle.onShutdown('metrics server', () => server.close());
      }
      const bus = context.openBus(config.bus);
      const store = await context.openStore(config.storage);
      const service = await startCollectorService(
        { ...config.collector, id: instanceId },
        { bus, store, logger, env: process.env, signal },
      );
      lifecycle.onShutdown('collector', () => service.stop(), { phase: 'drain' });
      logger.info('collector: ready');
    },
  );
}
