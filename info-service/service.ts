/**
 * The info service assembled from its settings and the adapters it is given, serving its HTTP
 * API: used by `buildfleet info-service` (./main.ts), the all-in-one `buildfleet up` and the test
 * harness.
 */
import { resolve } from 'node:path';
import { instanceIdOf, stopInOrder, type RunningService, type ServiceDeps } from '../shared/lifecycle/index.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';
import type { InfoSettings } from './config.ts';
import { createGraphSource } from './graph-source.ts';
import { createInfoService, type InfoService } from './info-service.ts';

type ListenOptions = Parameters<InfoService['listen']>[0];

/** Its metrics are served on the API's `/metrics`. */
export interface InfoServiceDeps extends ServiceDeps {
  store: ArtifactStore;
  /** Routes of other parts served on the same port (the all-in-one's push webhook). @default none */
  extraRoutes?: ListenOptions['extraRoutes'];
}

/** stop(): stops listening (open streams are cut), then the service. */
export interface RunningInfoService extends RunningService {
  readonly service: InfoService;
  /** `http://host:port` of the API, with the port actually bound. */
  readonly url: string;
}

/**
 * Creates the info service, serves its API on info.http and starts it. The API listens first
 * (`/healthz` answers 503 while the view catches up); resolves when the view has caught up.
 */
export async function startInfoService(settings: InfoSettings, deps: InfoServiceDeps): Promise<RunningInfoService> {
  const { logger, signal } = deps;
  const service = createInfoService({
    bus: deps.bus,
    store: deps.store,
    logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    instanceId: instanceIdOf(settings.id),
    publicUrl: settings.publicUrl,
    serveRepos: settings.serveRepos,
    view: { maxBuilds: settings.maxBuilds },
    logs: { maxLinesPerBuild: settings.logLinesPerBuild },
    streams: settings.streams,
    catchUpQuietMs: settings.catchUpQuietMs,
    logSettleMs: settings.logSettleMs,
    ...(settings.sources
      ? {
          graphs: createGraphSource({
            url: settings.sources.url,
            branch: settings.sources.branch,
            workDir: resolve(settings.sources.workDir),
            logger,
          }),
        }
      : {}),
  });
  let server: Awaited<ReturnType<InfoService['listen']>> | undefined;
  const stop = stopInOrder(
    () => server?.close(),
    () => service.stop(),
  );
  try {
    server = await service.listen({
      host: settings.http.host,
      port: settings.http.port,
      logger,
      ...(deps.extraRoutes ? { extraRoutes: deps.extraRoutes } : {}),
      ...(signal ? { signal } : {}),
    });
    logger.info({ url: server.url }, 'info-service: HTTP API listening');
    await service.start(signal);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { service, url: server.url, stop };
}
