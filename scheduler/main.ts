import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle, instanceIdOf } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics, metricsHandler } from '../shared/metrics/index.ts';
import { WEBHOOK_PATH } from './changes/webhook.ts';
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
      const serveMetrics = metricsHandler(metrics.registry);
      const server = createServer((request, response) => {
        const path = (request.url ?? '/').split('?')[0];
        if (path === '/metrics') serveMetrics(request, response);
        else if (path === '/healthz') response.writeHead(signal.aborted ? 503 : 200).end();
        else if (path === WEBHOOK_PATH && service.webhook) service.webhook(request, response);
        else response.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(config.metrics.port, config.metrics.host, resolve));
      const { port } = server.address() as AddressInfo;
      logger.info(
        { url: `http://${config.metrics.host}:${port}`, webhook: service.webhook !== undefined },
        'scheduler: serving /metrics, /healthz and the push webhook',
      );
      lifecycle.onShutdown('http server', () => new Promise<void>((resolve) => server.close(() => resolve())));
    }
    logger.info('scheduler: ready');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
