/**
 * The HTTP server of the info service: its API routes on the shared HTTP layer (shared/http).
 * An outer process (the all-in-one `buildfleet up`) adds routes of other services on the same
 * port with `extraRoutes`, e.g. the scheduler's `POST /hooks/git`. Every route declares its access;
 * `auth` checks it and `hosts` the Host and Origin of each request (docs/security.md).
 */
import type { Logger } from '../../shared/log/index.ts';
import {
  createHttpServer,
  type HostPolicy,
  type HttpAuth,
  type HttpRoute,
  type HttpServer,
  type RequestTimer,
} from '../../shared/http/index.ts';

export interface InfoHttpServerOptions {
  /** The API's routes (`InfoService.routes`). */
  routes: readonly HttpRoute[];
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Routes of other services on the same port. They are routes like the API's: a method and path
   * the API has already is refused (config-invalid) rather than shadowed. Each declares its `access`.
   * @default none
   */
  extraRoutes?: readonly HttpRoute[];
  logger?: Logger;
  signal?: AbortSignal;
  /** Times each request (the service's `httpRequestDuration`). @default none */
  requestDuration?: RequestTimer;
  /** Who may use which route (service.ts makes it from info.auth). */
  auth: HttpAuth;
  /** Host and Origin checks (from info.publicUrl, info.http). @default none */
  hosts?: HostPolicy;
}

export type InfoHttpServer = HttpServer;

export function createInfoHttpServer(options: InfoHttpServerOptions): Promise<InfoHttpServer> {
  return createHttpServer({
    name: 'info-service',
    port: options.port,
    host: options.host,
    routes: [...(options.extraRoutes ?? []), ...options.routes],
    logger: options.logger,
    signal: options.signal,
    requestDuration: options.requestDuration,
    auth: options.auth,
    ...(options.hosts ? { hosts: options.hosts } : {}),
  });
}
