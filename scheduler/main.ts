import { createHttpServer } from '../shared/http/index.ts';
import { runService } from '../shared/lifecycle/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { webhookRoute } from './changes/webhook.ts';
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
      const { webhook } = service;
      if (webhook !== undefined) {
        // Its own listener: the git server must reach it, the metrics port need not be reachable.
        const server = await createHttpServer({
          name: 'scheduler-webhook',
          host: config.scheduler.webhook.host,
          port: config.scheduler.webhook.port,
          routes: [webhookRoute(() => webhook)],
          logger,
          signal,
        });
        logger.info({ url: `${server.url}/hooks/git` }, 'scheduler: serving the push webhook');
        lifecycle.onShutdown('webhook server', () => server.close());
      }
      if (config.metrics.enabled) {
        const server = await startMetricsServer({
          registry: metrics.registry,
          port: config.metrics.port,
          host: config.metrics.host,
          isHealthy: () => !signal.aborted,
          logger,
        });
        logger.info({ url: server.url }, 'scheduler: serving /metrics and /healthz');
        lifecycle.onShutdown('http server', () => server.close());
      }
      logger.info('scheduler: ready');
    },
  );
}
