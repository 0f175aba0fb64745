import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle, instanceIdOf } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics } from '../shared/metrics/index.ts';
import { storeFromConfig } from '../shared/storage/from-config.ts';
import { InfoServiceConfig } from './config.ts';
import { startInfoService } from './service.ts';

/** `buildfleet info-service --config <file>`: config -> logger, metrics, bus, store -> info service -> lifecycle. */
export async function runInfoServiceService(options: { configFile?: string }): Promise<number> {
  const loaded = loadConfigWithSources(InfoServiceConfig, options.configFile ? { file: options.configFile } : {});
  const config = loaded.config;
  const instanceId = instanceIdOf(config.info.id);
  const logger = createLogger({ name: 'info-service', level: config.log.level, bindings: { instance: instanceId } });
  logger.info({ config: redactConfig(config), ignoredEnv: loaded.ignoredEnv }, 'info-service: starting');
  const lifecycle = createLifecycle({ logger, graceMs: config.info.graceMs });
  lifecycle.installSignalHandlers(process);

  return lifecycle.run(async (signal) => {
    const metrics = createMetrics({ defaultLabels: { service: 'info-service' } });
    const bus = createBus({ ...config.bus, clientId: `info-service-${instanceId}` }, logger);
    lifecycle.onShutdown('bus', () => bus.close());
    const store = await storeFromConfig(config.storage);
    lifecycle.onShutdown('store', () => store.close());
    const running = await startInfoService({ ...config.info, id: instanceId }, { bus, store, logger, metrics, signal });
    lifecycle.onShutdown('info service', () => running.stop(), { phase: 'drain' });
    logger.info({ builds: running.service.view.size }, 'info-service: ready');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
