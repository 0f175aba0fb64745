import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics } from '../shared/metrics/index.ts';
import { storeFromConfig } from '../shared/storage/from-config.ts';
import { InfoServiceConfig } from './config.ts';
import { createGraphSource } from './graph-source.ts';
import { createInfoService } from './info-service.ts';

/** `buildfleet info-service --config <file>`: wires config -> adapters -> service -> HTTP -> signals, and runs. */
export async function runInfoServiceService(options: { configFile?: string }): Promise<number> {
  const loaded = loadConfigWithSources(InfoServiceConfig, options.configFile ? { file: options.configFile } : {});
  const config = loaded.config;
  const instanceId = config.info.id ?? `${hostname()}-${process.pid}`;
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
    const service = createInfoService({
      bus,
      store,
      logger,
      metrics,
      instanceId,
      publicUrl: config.info.publicUrl,
      serveRepos: config.info.serveRepos,
      view: { maxBuilds: config.info.maxBuilds },
      logs: { maxLinesPerBuild: config.info.logLinesPerBuild },
      catchUpQuietMs: config.info.catchUpQuietMs,
      ...(config.info.sources
        ? {
            graphs: createGraphSource({
              url: config.info.sources.url,
              branch: config.info.sources.branch,
              workDir: resolve(config.info.sources.workDir),
              logger,
            }),
          }
        : {}),
    });
    lifecycle.onShutdown('info service', () => service.stop(), { phase: 'drain' });
    // Listening first: /healthz answers 503 while the view catches up.
    const server = await service.listen({ host: config.info.http.host, port: config.info.http.port, signal });
    lifecycle.onShutdown('http server', () => server.close(), { phase: 'stop-intake' });
    logger.info({ url: server.url }, 'info-service: HTTP API listening');
    await service.start(signal);
    logger.info({ builds: service.view.size }, 'info-service: ready');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
