import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/index.ts';
import type { Registry } from 'prom-client';
import { BuildfleetError } from '../errors/index.ts';
import { createHttpServer, sendError, type HttpRoute, type HttpServer } from '../http/index.ts';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Answers a request with the registry's metrics in Prometheus text format. It looks at neither
 * the path nor the method: the router that mounts it (GET `/metrics`) answers the others.
 */
export function metricsHandler(registry: Registry): RequestHandler {
  return (request, response) => {
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        sendError(response, new BuildfleetError('internal', `metrics failed: ${message}`));
      },
    );
  };
}

export interface MetricsServerOptions {
  registry: Registry;
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** `/healthz` answers 503 while this returns false (e.g. during shutdown). @default always healthy */
  isHealthy?: () => boolean;
  /** Logs failed requests. @default none */
  logger?: Logger;
}

export type MetricsServer = HttpServer;

/** Serves `GET /metrics` and `GET /healthz`; other paths are 404, other methods 405. */
export function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const serveMetrics = metricsHandler(options.registry);
  const routes: HttpRoute[] = [
    { method: 'GET', path: '/metrics', handler: serveMetrics },
    {
      method: 'GET',
      path: '/healthz',
      handler: (_request, response) => {
        const healthy = options.isHealthy?.() ?? true;
        response.writeHead(healthy ? 200 : 503, {
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-store',
        });
        response.end(healthy ? 'ok\n' : 'unavailable\n');
      },
    },
  ];
  return createHttpServer({
    name: 'metrics',
    port: options.port,
    routes,
    host: options.host,
    signal: options.signal,
    logger: options.logger,
  });
}
