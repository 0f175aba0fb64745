/**
 * The routing of every buildfleet HTTP server, on find-my-way (docs/api.md says why): routes are
 * declared per method and path; this is the one place that answers 404 (no such path), 405
 * (another method, with `allow`), 413/415 (bodies), 414 (long targets), 400 (bad
 * percent-encoding, no Host), 401/403 (auth.ts: the access each route declares), 421/403 (Host and
 * Origin, host-check.ts), and turns a handler's error into `{ error: { code, message } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import type { Logger } from '../log/index.ts';
import { BuildfleetError, toBuildfleetError } from '../errors/index.ts';
import { ANONYMOUS_NONE, authorize, bearerChallenge, type HttpAuth, type Principal, type RouteAccess } from './auth.ts';
import { checkDeclaredLength, readJsonBody } from './body.ts';
import { checkHostAndOrigin, type HostPolicy } from './host-check.ts';
import type { HttpLimits } from './limits.ts';
import { parseRequestTarget } from './request-target.ts';
import { errorStatus, HttpError, sendError } from './respond.ts';

export const HttpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HttpMethods)[number];

/** What the router found for a request, handed to its route's handler. */
export interface RouteMatch {
  /** The path parameters, percent-decoded (`buildId` of `/api/builds/:buildId`; `*` for a wildcard). */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The parsed body of a `body: 'json'` route; `undefined` when the request had none, and for other routes. */
  body: unknown;
  /** The route's path pattern, e.g. `/api/builds/:buildId` (the `route` label of the request metric). */
  route: string;
  /** Who asked (auth.ts); anonymous with no role on a server without `auth`. */
  principal: Principal;
}

export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  match: RouteMatch,
) => void | Promise<void>;

export interface HttpRoute {
  /** One method or several; a GET route answers HEAD too, unless HEAD has a route of its own. */
  method: HttpMethod | readonly HttpMethod[];
  /**
   * A find-my-way path: static (`/healthz`), with parameters (`/api/builds/:buildId`; an empty
   * parameter does not match), or ending in a wildcard (`/repos/*`: the rest, maybe empty, as `params['*']`).
   */
  path: string;
  /** Answers the request; a thrown error is answered as `{ error: { code, message } }`. */
  handler: RouteHandler;
  /**
   * What the route does with a request body. `none`: it reads none (one declared beyond the
   * limit is 413). `json`: the router reads and parses it before the handler runs (415 for another
   * content type, 413 beyond the limit, 400 when it does not parse). `stream`: the handler reads it
   * itself (a declared length beyond the limit is 413 before it runs).
   * @default 'none'
   */
  body?: 'none' | 'json' | 'stream';
  /** @default the server's limits.maxBodyBytes */
  maxBodyBytes?: number;
  /**
   * Who may use the route, on a server with `auth`: `public`, or the least role (`read` <
   * `submit` < `admin`). Required there (a route that forgets is config-invalid); ignored elsewhere.
   */
  access?: RouteAccess;
}

/** Times requests (the `buildfleet_http_request_duration_seconds` histogram of shared/metrics fits). */
export interface RequestTimer {
  startTimer(): (labels: { method: string; route: string; status: string }) => unknown;
}

export interface RequestDispatcherOptions {
  routes: readonly HttpRoute[];
  limits: HttpLimits;
  /** Names the server in log lines, e.g. `info-service`. */
  name: string;
  logger?: Logger | undefined;
  requestDuration?: RequestTimer | undefined;
  /** Authenticates requests and checks each route's `access`. @default none: no route is checked */
  auth?: HttpAuth | undefined;
  /** Checks `Host` and `Origin` (host-check.ts). @default none: any Host */
  hosts?: HostPolicy | undefined;
}

/** The `route` label of requests that matched no route. */
export const UNMATCHED_ROUTE = '(unmatched)';

interface Label {
  route: string;
  principal?: string;
}

interface Found {
  route: HttpRoute;
  params: Record<string, string>;
}

function methodsOf(route: HttpRoute): readonly HttpMethod[] {
  return typeof route.method === 'string' ? [route.method] : route.method;
}

function isHttpMethod(value: string | undefined): value is HttpMethod {
  return (HttpMethods as readonly (string | undefined)[]).includes(value);
}

/** A router over the routes; throws config-invalid for a route declared twice or a path find-my-way refuses. */
function compileRoutes(routes: readonly HttpRoute[], limits: HttpLimits) {
  const router = FindMyWay({
    // The target's length is bounded by maxUrlBytes (414); a parameter needs no limit of its own.
    maxParamLength: limits.maxUrlBytes,
    // The query is parsed once, as URLSearchParams, by parseRequestTarget.
    querystringParser: () => ({}),
  });
  const declared = new Set(routes.flatMap((route) => methodsOf(route).map((method) => `${method} ${route.path}`)));
  const methods = new Set<HttpMethod>();
  const add = (method: HttpMethod, route: HttpRoute): void => {
    try {
      router.on(method, route.path, () => undefined, route);
    } catch (error) {
      throw new BuildfleetError(
        'config-invalid',
        `http route ${method} ${route.path}: ${toBuildfleetError(error).message}`,
        {
          cause: error,
          context: { method, path: route.path },
        },
      );
    }
    methods.add(method);
  };
  for (const route of routes) {
    for (const method of methodsOf(route)) add(method, route);
    if (methodsOf(route).includes('GET') && !declared.has(`HEAD ${route.path}`)) add('HEAD', route);
  }

  const find = (method: string, path: string): Found | undefined => {
    if (!isHttpMethod(method)) return undefined;
    const found = router.find(method, path);
    if (found === null) return undefined;
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(found.params)) {
      // `/api/builds/` is not `/api/builds/:buildId` with an empty id
      if (name !== '*' && (value === undefined || value === '')) return undefined;
      params[name] = value ?? '';
    }
    return { route: found.store as HttpRoute, params };
  };
  /** The methods some route answers on this path, in the order of HttpMethods. */
  const allowed = (path: string): HttpMethod[] => HttpMethods.filter((m) => methods.has(m) && find(m, path));
  return { find, allowed };
}

/** The request listener of a server: routes each request and answers every refusal. */
export function createRequestDispatcher(
  options: RequestDispatcherOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const { limits, logger, name, auth } = options;
  const routes = compileRoutes(options.routes, limits);
  if (auth) {
    const undeclared = options.routes.find((route) => route.access === undefined);
    if (undeclared) {
      throw new BuildfleetError(
        'config-invalid',
        `http route ${undeclared.path} declares no access (public, read, submit, admin)`,
        {
          context: { path: undeclared.path },
        },
      );
    }
  }

  async function dispatch(request: IncomingMessage, response: ServerResponse, label: Label): Promise<void> {
    // node's own check (requireHostHeader) would answer a bare 400; it is off so that this one answers in JSON
    if (request.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new HttpError(400, 'request-invalid', 'an HTTP/1.1 request needs a Host header');
    }
    const url = request.url ?? '/';
    if (url.length > limits.maxUrlBytes) {
      throw new HttpError(414, 'request-invalid', `the request target is longer than ${limits.maxUrlBytes} bytes`);
    }
    if (options.hosts) checkHostAndOrigin(options.hosts, request);
    const target = parseRequestTarget(url);
    const method = request.method ?? 'GET';
    const found = routes.find(method, target.path);
    if (!found) {
      const allowed = routes.allowed(target.path);
      const other = allowed[0] === undefined ? undefined : routes.find(allowed[0], target.path);
      if (!other) throw new HttpError(404, 'not-found', `no route ${method} ${target.path}`);
      label.route = other.route.path;
      response.setHeader('allow', allowed.join(', '));
      throw new HttpError(405, 'request-invalid', `${method} is not allowed on ${other.route.path}`, {
        context: { allow: allowed },
      });
    }
    const { route, params } = found;
    label.route = route.path;
    let principal = ANONYMOUS_NONE;
    if (auth) {
      const access = route.access ?? 'admin';
      if (access !== 'public') {
        principal = await auth.authenticate(request);
        label.principal = principal.name;
        authorize(principal, access);
        // reads are many: debug; what changes something: info
        const level = access === 'read' ? 'debug' : 'info';
        logger?.[level]({ principal: principal.name, method, route: route.path }, `${name}: request allowed`);
      }
    }
    const limit = route.maxBodyBytes ?? limits.maxBodyBytes;
    checkDeclaredLength(request, limit);
    const body = route.body === 'json' ? await readJsonBody(request, limit) : undefined;
    await route.handler(request, response, { params, query: target.query, body, route: route.path, principal });
  }

  return (request, response) => {
    const label: Label = { route: UNMATCHED_ROUTE };
    const method = isHttpMethod(request.method) ? request.method : 'other';
    const stop = options.requestDuration?.startTimer();
    response.once('close', () => stop?.({ method, route: label.route, status: String(response.statusCode) }));
    // A write to a response whose client went away must never become an unhandled 'error'.
    response.on('error', (error) => logger?.debug({ err: error, route: label.route }, `${name}: response error`));
    dispatch(request, response, label).catch((error: unknown) => {
      const failure = toBuildfleetError(error);
      const clientGone = request.destroyed || response.destroyed;
      const status = errorStatus(failure);
      if (!clientGone && failure.code === 'internal') {
        logger?.error({ err: error, route: label.route, method: request.method }, `${name}: request failed`);
      } else if (failure.code === 'auth-required' || failure.code === 'forbidden') {
        // every refusal of a principal is logged with it
        logger?.info(
          {
            principal: label.principal ?? 'anonymous',
            route: label.route,
            method: request.method,
            status,
            reason: failure.message,
          },
          `${name}: request denied`,
        );
      } else {
        logger?.debug({ err: error, route: label.route, method: request.method }, `${name}: request refused`);
      }
      // The unread rest of a body too large is not read: the connection ends with the answer.
      if (status === 413 && !response.headersSent) response.setHeader('connection', 'close');
      // The bearer challenge is for token refusals only (a webhook's bad signature is 401 too).
      if (failure.code === 'auth-required' && !response.headersSent) {
        response.setHeader('www-authenticate', bearerChallenge(failure));
      }
      sendError(response, failure);
    });
  };
}
