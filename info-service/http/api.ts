/**
 * The HTTP API of docs/api.md (all but `/hooks/git`, which the scheduler serves), as one
 * handler an outer server calls: it answers the routes it knows and returns false for others.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { submissionProgress, type BuildSubmit, type ControlCancel } from '../../shared/messages/index.ts';
import { metricsHandler, type Metrics } from '../../shared/metrics/index.ts';
import { listRepositories } from '../../shared/repos/catalog.ts';
import { createRepoRequestHandler } from '../../shared/repos/http.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import type { EventStream } from '../event-stream.ts';
import type { GraphSource } from '../graph-source.ts';
import type { LiveLogs } from '../live-logs.ts';
import type { BuildView } from '../view.ts';
import { DASHBOARD_HTML } from './dashboard.ts';
import { serveArtifact, serveEvents, serveLog } from './streams.ts';
import { cancelOf, eventFilterOf, graphQueryOf, listFilterOf, submitOf, targetOf } from './requests.ts';
import { readJsonBody, sendError, sendJson } from './respond.ts';

/** What the API needs from the service. */
export interface ApiContext {
  view: BuildView;
  logs: LiveLogs;
  events: EventStream;
  store: ArtifactStore;
  metrics: Metrics;
  logger: Logger;
  /** Where clients reach the repositories (the `url` of `/api/repos`). */
  publicUrl: string;
  serveRepos: boolean;
  /** False while the view is still reading the events topic: read routes answer 503. */
  isReady(): boolean;
  publishSubmit(message: BuildSubmit): Promise<void>;
  publishCancel(message: ControlCancel): Promise<void>;
  /** The dependency graph of the sources repo; absent when the service has no sources configured. */
  graphs?: GraphSource;
}

type Handler = (request: IncomingMessage, response: ServerResponse, params: string[], url: URL) => Promise<void>;

interface Route {
  /** Label for metrics, e.g. `/api/builds/:buildId`. */
  name: string;
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** Needs the view to have caught up. */
  needsView: boolean;
}

function notFound(code: 'build-unknown' | 'not-found', message: string): BuildfleetError {
  return new BuildfleetError(code, message);
}

export function createApiHandler(
  ctx: ApiContext,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const serveRepoFile = createRepoRequestHandler(ctx.store, '/repos');
  const serveMetrics = metricsHandler(ctx.metrics.registry);

  const record = (buildId: string) => {
    const found = ctx.view.get(buildId);
    if (!found) throw notFound('build-unknown', `no build ${buildId}`);
    return found;
  };

  const routes: Route[] = [
    {
      name: '/healthz',
      pattern: /^\/healthz$/,
      needsView: false,
      methods: {
        GET: async (_request, response) => {
          if (ctx.isReady()) sendJson(response, 200, { status: 'ok' });
          else
            sendJson(response, 503, { status: 'starting', message: 'the view is catching up with the events topic' });
          return Promise.resolve();
        },
      },
    },
    {
      name: '/metrics',
      pattern: /^\/metrics$/,
      needsView: false,
      methods: { GET: (request, response) => Promise.resolve(serveMetrics(request, response)) },
    },
    {
      name: '/',
      pattern: /^\/$/,
      needsView: false,
      methods: {
        GET: (_request, response) => {
          response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          response.end(DASHBOARD_HTML);
          return Promise.resolve();
        },
      },
    },
    {
      name: '/api/builds',
      pattern: /^\/api\/builds$/,
      needsView: true,
      methods: {
        GET: (_request, response, _params, url) => {
          sendJson(response, 200, ctx.view.list(listFilterOf(url.searchParams)));
          return Promise.resolve();
        },
        POST: async (request, response) => {
          const submit = submitOf(await readJsonBody(request), randomUUID, new Date());
          await ctx.publishSubmit(submit);
          sendJson(response, 202, { submitId: submit.submitId });
        },
      },
    },
    {
      name: '/api/builds/:buildId',
      pattern: /^\/api\/builds\/([^/]+)$/,
      needsView: true,
      methods: {
        GET: (_request, response, [buildId = '']) => {
          sendJson(response, 200, record(buildId));
          return Promise.resolve();
        },
      },
    },
    {
      name: '/api/builds/:buildId/log',
      pattern: /^\/api\/builds\/([^/]+)\/log$/,
      needsView: true,
      methods: {
        GET: (request, response, [buildId = ''], url) =>
          serveLog(
            ctx,
            request,
            response,
            buildId,
            ['1', 'true', 'yes'].includes(url.searchParams.get('follow') ?? ''),
          ),
      },
    },
    {
      name: '/api/builds/:buildId/artifacts',
      pattern: /^\/api\/builds\/([^/]+)\/artifacts$/,
      needsView: true,
      methods: {
        GET: (_request, response, [buildId = '']) => {
          sendJson(response, 200, { artifacts: record(buildId).artifacts });
          return Promise.resolve();
        },
      },
    },
    {
      name: '/api/builds/:buildId/artifacts/:name',
      pattern: /^\/api\/builds\/([^/]+)\/artifacts\/(.+)$/,
      needsView: true,
      methods: {
        GET: async (request, response, [buildId = '', name = '']) => {
          const artifact = record(buildId).artifacts.find((a) => a.name === name);
          if (!artifact) throw notFound('not-found', `build ${buildId} has no artifact ${name}`);
          await serveArtifact(ctx.store, request, response, artifact);
        },
      },
    },
    {
      name: '/api/builds/:buildId/cancel',
      pattern: /^\/api\/builds\/([^/]+)\/cancel$/,
      needsView: true,
      methods: {
        POST: async (request, response, [buildId = '']) => {
          const body = await readJsonBody(request);
          record(buildId);
          await ctx.publishCancel(cancelOf(buildId, body, new Date()));
          sendJson(response, 202, {});
        },
      },
    },
    {
      name: '/api/submissions/:submitId',
      pattern: /^\/api\/submissions\/([^/]+)$/,
      needsView: true,
      methods: {
        GET: (_request, response, [submitId = '']) => {
          const builds = ctx.view.bySubmitId(submitId);
          if (builds.length === 0) throw notFound('not-found', `no build of submission ${submitId}`);
          sendJson(response, 200, submissionProgress(submitId, builds));
          return Promise.resolve();
        },
      },
    },
    {
      name: '/api/events',
      pattern: /^\/api\/events$/,
      needsView: false,
      methods: {
        GET: (request, response, _params, url) => {
          serveEvents(ctx.events, request, response, eventFilterOf(url.searchParams));
          return Promise.resolve();
        },
      },
    },
    {
      name: '/api/projects/:project',
      pattern: /^\/api\/projects\/(.+)$/,
      needsView: true,
      methods: {
        GET: (_request, response, [project = ''], url) => {
          const target = url.searchParams.get('target');
          const builds = ctx.view.latest(project, target ? targetOf(target) : undefined);
          if (builds.length === 0) throw notFound('not-found', `no builds of project ${project}`);
          sendJson(response, 200, { project, builds });
          return Promise.resolve();
        },
      },
    },
    {
      name: '/api/graph',
      pattern: /^\/api\/graph$/,
      needsView: false,
      methods: {
        GET: async (_request, response, _params, url) => {
          const query = graphQueryOf(url.searchParams);
          if (!ctx.graphs) {
            throw new BuildfleetError(
              'sources-unconfigured',
              'this info service has no sources repository configured (info.sources.url), so it has no graph',
            );
          }
          // A client that goes away does not stop the computation: the next caller of the commit shares it.
          sendJson(response, 200, await ctx.graphs.graph(query));
        },
      },
    },
    {
      name: '/api/repos',
      pattern: /^\/api\/repos$/,
      needsView: false,
      methods: {
        GET: async (_request, response) => sendJson(response, 200, await listRepositories(ctx.store, ctx.publicUrl)),
      },
    },
  ];

  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (ctx.serveRepos && url.pathname.startsWith('/repos/')) {
      return observe(ctx, request, response, '/repos', () => serveRepoFile(request, response).then(() => undefined));
    }
    for (const route of routes) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      const method = request.method === 'HEAD' ? 'GET' : (request.method ?? 'GET');
      const handler = route.methods[method];
      return observe(ctx, request, response, route.name, async () => {
        if (!handler) {
          response.setHeader('allow', Object.keys(route.methods).join(', '));
          sendJson(response, 405, {
            error: { code: 'request-invalid', message: `${request.method} is not allowed on ${route.name}` },
          });
          return;
        }
        if (route.needsView && !ctx.isReady()) {
          throw new BuildfleetError('bus-unavailable', 'the view is still catching up with the events topic');
        }
        await handler(request, response, decodeParams(match), url);
      });
    }
    return false;
  };
}

function decodeParams(match: RegExpExecArray): string[] {
  try {
    return match.slice(1).map((part) => decodeURIComponent(part));
  } catch {
    throw new BuildfleetError('request-invalid', 'the path is not valid percent-encoding');
  }
}

/** Runs a route, answers its error, and times it. Always resolves true (the route was ours). */
async function observe(
  ctx: ApiContext,
  request: IncomingMessage,
  response: ServerResponse,
  route: string,
  run: () => Promise<void>,
): Promise<true> {
  const stop = ctx.metrics.httpRequestDuration.startTimer({ method: request.method ?? 'GET', route });
  // A write to a response whose client went away must never become an unhandled 'error'.
  response.on('error', (error) => ctx.logger.debug({ err: error, route }, 'info-service: response error'));
  response.once('close', () => stop({ status: String(response.statusCode) }));
  try {
    await run();
  } catch (error) {
    // A client that went away mid-stream is not worth an error line.
    const clientGone = request.destroyed || response.destroyed;
    if (!clientGone && (!(error instanceof BuildfleetError) || error.code === 'internal')) {
      ctx.logger.error({ err: error, route }, 'info-service: request failed');
    }
    sendError(response, error);
  }
  return true;
}
