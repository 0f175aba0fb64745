import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle, instanceIdOf } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES, WEBHOOK_PATH } from './changes/webhook.ts';
import { SchedulerConfig } from './config.ts';
import { startSchedulerService } from './service.ts';

/** `buildfleet scheduler --config <file>`: wires config -> adapters -> scheduler -> signals, and runs. */
export async function runSchedulerService(options: { configFile?: string }): Promise<number> {
  const loaded = loadConfigWithSources(SchedulerConfig, options.configFile ? { file: options.configFile } : {});
  const config = loaded.config;
  const instanceId = instanceIdOf(config.scheduler.id);
  const logger = createLogger({ name: 'scheduler', level: config.log.level, bindings: { instance: instanceId } });
  logger.info({ config: redactConfig(config), ignoredEnv: loaded.ignoredEnv }, 'scheduler: starting');
  const lifecycle = createLifecycle({ logger, graceMs: 30_000 });
  lifecycle.installSignalHandlers(process);

  return lifecycle.run(async (signal) => {
    const metrics = createMetrics({ defaultLabels: { service: 'scheduler' } });
    const bus = createBus({ ...config.bus, clientId: `scheduler-${instanceId}` }, logger);
    lifecycle.onShutdown('bus', () => bus.close());
    const service = await startSchedulerService(
      { ...config.scheduler, id: instanceId },
      { bus, logger, metrics, env: process.env, signal },
    );
    lifecycle.onShutdown('scheduler', () => service.stop(), { phase: 'drain' });
    if (config.metrics.enabled) {
      const server = await startMetricsServer({
        registry: metrics.registry,
        port: config.metrics.port,
        host: config.metrics.host,
        isHealthy: () => !signal.aborted,
        logger,
        routes: service.webhook
          ? [
              {
                method: 'POST',
                path: WEBHOOK_PATH,
                body: 'stream',
                maxBodyBytes: DEFAULT_WEBHOOK_MAX_BODY_BYTES,
                handler: service.webhook,
              },
            ]
          : [],
      });
      logger.info(
        { url: server.url, webhook: service.webhook !== undefined },
        'scheduler: serving /metrics, /healthz and the push webhook',
      );
      lifecycle.onShutdown('http server', () => server.close());
    }
    logger.info('scheduler: ready');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
