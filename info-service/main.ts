import { runService } from '../shared/lifecycle/index.ts';
import { createMetrics } from '../shared/metrics/index.ts';
import { InfoServiceConfig } from './config.ts';
import { startInfoService } from './service.ts';

/** `buildfleet info-service --config <file>`: config -> logger, metrics, bus, store -> info service -> lifecycle. */
export function runInfoServiceService(options: { configFile?: string }): Promise<number> {
  return runService(
    {
      name: 'info-service',
      schema: InfoServiceConfig,
      ...options,
      deadlines: (config: InfoServiceConfig) => ({ graceMs: config.info.graceMs }),
      configuredId: (config) => config.info.id,
    },
    async (context) => {
      const { config, instanceId, logger, lifecycle, signal } = context;
      const metrics = createMetrics({ defaultLabels: { service: 'info-service' } });
      const bus = context.openBus(config.bus);
      const store = await context.openStore(config.storage);
      const running = await startInfoService(
        { ...config.info, id: instanceId },
        { bus, store, logger, metrics, signal },
      );
      lifecycle.onShutdown('info service', () => running.stop(), { phase: 'drain' });
      logger.info({ builds: running.service.view.size }, 'info-service: ready');
    },
  );
}
