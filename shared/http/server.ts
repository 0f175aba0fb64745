/**
 * `createHttpServer`: the node:http server every buildfleet service listens with (the info
 * service's API, the metrics/health servers, the scheduler's webhook): routes on the shared
 * router, the limits of limits.ts, JSON refusals, and an idempotent close that an AbortSignal
 * can start.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/index.ts';
import { BuildfleetError, throwIfAborted } from '../errors/index.ts';
import { createClientErrorListener } from './client-errors.ts';
import { compileHttpLimits, type HttpLimits } from './limits.ts';
import type { HttpAuth } from './auth.ts';
import type { HostPolicy } from './host-check.ts';
import { createRequestDispatcher, type HttpRoute, type RequestTimer } from './router.ts';

export interface HttpServerOptions {
  /** Names the server in log lines and errors, e.g. `info-service`. */
  name: string;
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  routes: readonly HttpRoute[];
  logger?: Logger;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** @default HttpLimitDefaults */
  limits?: Partial<HttpLimits>;
  /** Times each request by method, route and status. @default none */
  requestDuration?: RequestTimer;
  /** Bearer tokens and the access of each route (auth.ts). @default none: routes are not checked */
  auth?: HttpAuth;
  /** Host and Origin checks (host-check.ts). @default none */
  hosts?: HostPolicy;
}

export interface HttpServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and cuts open connections (keep-alive ones, followed logs, event streams). Idempotent. */
  close(): Promise<void>;
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  throwIfAborted(options.signal);
  const host = options.host ?? '127.0.0.1';
  const limits = compileHttpLimits(options.limits);
  const listener = createRequestDispatcher({
    routes: options.routes,
    limits,
    name: options.name,
    logger: options.logger,
    requestDuration: options.requestDuration,
    auth: options.auth,
    hosts: options.hosts,
  });
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // the router answers a missing Host in JSON
      requireHostHeader: false,
    },
    listener,
  );
  server.on('clientError', createClientErrorListener(options.name, limits.maxUrlBytes, options.logger));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new BuildfleetError(
          'config-invalid',
          `${options.name}: cannot listen on ${host}:${options.port}: ${error.message}`,
          {
            cause: error,
            context: { host, port: options.port },
          },
        ),
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
      // keep-alive connections (fetch keeps them) and streams would hold close() open
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
