import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { BuildfleetError, throwIfAborted } from '../errors/index.ts';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Answers a request with the registry's metrics in Prometheus text format (GET and HEAD;
 * other methods get 405). It does not look at the path: mount it where you route
 * `/metrics` in your own server.
 */
export function metricsHandler(registry: Registry): RequestHandler {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${message}\n`);
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
}

export interface MetricsServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections; safe to call twice. */
  close(): Promise<void>;
}

/** Serves `GET /metrics` and `GET /healthz`; everything else is 404. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  throwIfAborted(options.signal);
  const host = options.host ?? '127.0.0.1';
  const serveMetrics = metricsHandler(options.registry);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      serveMetrics(request, response);
    } else if (path === '/healthz') {
      const healthy = options.isHealthy?.() ?? true;
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(healthy ? 'ok\n' : 'unavailable\n');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new BuildfleetError('config-invalid', `metrics: cannot listen on ${host}:${options.port}: ${error.message}`, {
          cause: error,
          context: { host, port: options.port },
        }),
      );
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      options.signal?.removeEventListener('abort', onAbort);
      server.close(() => resolve());
      // keep-alive connections (fetch keeps them) would hold close() open until they time out
      server.closeAllConnections();
    });
    return closing;
  };
  const onAbort = (): void => void close();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${urlHost}:${port}`, port, close };
}
