import { runService } from '../shared/lifecycle/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES, WEBHOOK_PATH } from './changes/webhook.ts';
import { SchedulerConfig } from './config.ts';
import { startSchedulerService } from './service.ts';

/** `buildfleet scheduler --config <file>`: wires config -> adapters -> scheduler -> signals, and runs. */
export function runSchedulerService(options: { configFile?: string }): Promise<number> {
  return runService(
    { name: 'scheduler', schema: SchedulerConfig, ...options, configuredId: (config) => config.scheduler.id },
    async (context) => {
      const { config, instanceId, logger, lifecycle, signal } = context;
      const metrics = createMetrics({ defaultLabels: { service: 'scheduler' } });
      const bus = context.openBus(config.bus);
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
    },
  );
}
