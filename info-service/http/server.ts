/**
 * The HTTP server of the info service. An outer process (the all-in-one `buildfleet up`) mounts
 * routes of other services on the same port with `extraRoutes`, e.g. the scheduler's
 * `POST /hooks/git`; they are tried first, then the info service's API, then 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { sendError, sendJson } from './respond.ts';

/** A route of another service, served on the info service's port. */
export interface ExtraRoute {
  /** HTTP method, upper case (`POST`). */
  method: string;
  /** Path prefix it answers, e.g. `/hooks/git` (matches `/hooks/git` and `/hooks/git/...`). */
  prefix: string;
  /** Answers the request; a thrown error is answered as `{ error: { code, message } }`. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void> | void;
}

export interface InfoHttpServerOptions {
  /** The info service (or anything with its handleHttp). */
  service: { handleHttp(request: IncomingMessage, response: ServerResponse): Promise<boolean> };
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default none */
  extraRoutes?: readonly ExtraRoute[];
  logger?: Logger;
  signal?: AbortSignal;
}

export interface InfoHttpServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and cuts open connections (followed logs, event streams). Idempotent. */
  close(): Promise<void>;
}

function matchesPrefix(path: string, prefix: string): boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

export async function createInfoHttpServer(options: InfoHttpServerOptions): Promise<InfoHttpServer> {
  throwIfAborted(options.signal);
  const host = options.host ?? '127.0.0.1';
  const extraRoutes = options.extraRoutes ?? [];

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const extra = extraRoutes.find((r) => r.method === request.method && matchesPrefix(path, r.prefix));
    if (extra) {
      await extra.handle(request, response);
      return;
    }
    if (await options.service.handleHttp(request, response)) return;
    sendJson(response, 404, { error: { code: 'not-found', message: `no route ${request.method} ${path}` } });
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      options.logger?.warn({ err: error, url: request.url }, 'info-service: request failed');
      sendError(response, error);
    });
  });
  // A request Node cannot parse gets a plain 400 and its connection closed, never a crash.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new BuildfleetError(
          'config-invalid',
          `info-service: cannot listen on ${host}:${options.port}: ${error.message}`,
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
