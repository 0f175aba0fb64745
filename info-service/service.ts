/**
 * The info service assembled from its settings and the adapters it is given, serving its HTTP
 * API: used by `buildfleet info-service` (./main.ts), the all-in-one `buildfleet up` and the test
 * harness.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { BuildfleetError } from '../shared/errors/index.ts';
import { createHttpAuth, createTokenSource, hostPolicy, type HttpAuth } from '../shared/http/index.ts';
import type { Logger } from '../shared/log/index.ts';
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
  const auth = infoHttpAuth(settings, logger);
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
      auth,
      hosts: hostPolicy({
        publicUrls: [settings.publicUrl],
        listenHost: settings.http.host,
        extraNames: settings.http.allowedHosts,
      }),
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

/** Whether the address is loopback only (`127.0.0.0/8`, `::1`, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

/**
 * The HTTP identities of info.auth. Anonymous submitting is refused (config-invalid) unless the
 * API listens on loopback only: it is `buildfleet up --insecure-local`, not a cluster setting.
 */
export function infoHttpAuth(settings: InfoSettings, logger: Logger): HttpAuth {
  const { auth } = settings;
  if (auth.anonymous === 'submit' && !isLoopbackHost(settings.http.host)) {
    throw new BuildfleetError(
      'config-invalid',
      `info.auth.anonymous: submit is only allowed on a loopback address, not on info.http.host ${settings.http.host}`,
      { context: { key: 'info.auth.anonymous' } },
    );
  }
  const tokensFile = auth.tokensFile === undefined ? undefined : resolve(auth.tokensFile);
  if (auth.anonymous === 'none' && tokensFile === undefined && auth.tokens.length === 0) {
    logger.warn(
      'info-service: no tokens (info.auth.tokensFile, info.auth.tokens) and no anonymous access: only public routes answer',
    );
  }
  logger.info(
    { anonymous: auth.anonymous, tokensFile, inlineTokens: auth.tokens.length },
    'info-service: HTTP authentication',
  );
  return createHttpAuth({
    anonymous: auth.anonymous,
    tokens: createTokenSource({ file: tokensFile, inline: auth.tokens, logger }),
  });
}
