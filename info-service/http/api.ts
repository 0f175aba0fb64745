/**
 * The HTTP API of docs/api.md (all but `/hooks/git`, which the scheduler serves), as routes of
 * the shared router (shared/http): 404, 405, body limits and error answers are the router's. Each
 * route declares its access (docs/security.md): `/healthz`, `/metrics`, the dashboard and `/repos`
 * are public (apt and dnf send no token); reads need `read`; submitting and cancelling need
 * `submit` with a project prefix covering the build's project, or `admin`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../shared/log/index.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import {
  authorizeProject,
  sendJson,
  type HttpRoute,
  type Principal,
  type RouteHandler,
} from '../../shared/http/index.ts';
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
import { cancelOf, eventFilterOf, graphQueryOf, listFilterOf, submitOf, targetOf } from './requests.ts';
import { serveArtifact, serveEvents, serveLog } from './streams.ts';

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

/**
 * A submission with its token's name in `requestedBy` (`alice@cli (token ci)`), so the record
 * says who was authenticated, not only who the body claims to be. Anonymous ones stay as sent.
 */
function vouchedFor(body: unknown, principal: Principal): unknown {
  if (principal.kind !== 'token' || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const claimed = (body as { requestedBy?: unknown }).requestedBy;
  // a claim that is not text is left for the check to refuse, naming the field
  if (claimed !== undefined && typeof claimed !== 'string') return body;
  const by = `token ${principal.name}`;
  return { ...body, requestedBy: claimed ? `${claimed} (${by})` : by };
}

/** The routes of the API, GET ones answering HEAD too. */
export function createApiRoutes(ctx: ApiContext): HttpRoute[] {
  const serveRepoFile = createRepoRequestHandler(ctx.store, '/repos');
  const serveMetrics = metricsHandler(ctx.metrics.registry);

  const record = (buildId: string) => {
    const found = ctx.view.get(buildId);
    if (!found) throw new BuildfleetError('build-unknown', `no build ${buildId}`);
    return found;
  };
  /** A route that reads the view: 503 until the view has caught up. */
  const fromView =
    (handler: RouteHandler): RouteHandler =>
    (request, response, match) => {
      if (!ctx.isReady()) {
        throw new BuildfleetError('bus-unavailable', 'the view is still catching up with the events topic');
      }
      return handler(request, response, match);
    };
  const param = (params: Readonly<Record<string, string>>, name: string): string => params[name] ?? '';

  const routes: HttpRoute[] = [
    {
      method: 'GET',
      path: '/healthz',
      access: 'public',
      handler: (_request, response) => {
        if (ctx.isReady()) sendJson(response, 200, { status: 'ok' });
        else sendJson(response, 503, { status: 'starting', message: 'the view is catching up with the events topic' });
      },
    },
    { method: 'GET', path: '/metrics', access: 'public', handler: serveMetrics },
    {
      method: 'GET',
      path: '/',
      access: 'public',
      handler: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(DASHBOARD_HTML);
      },
    },
    {
      method: 'GET',
      path: '/api/builds',
      access: 'read',
      handler: fromView((_request, response, { query }) => sendJson(response, 200, ctx.view.list(listFilterOf(query)))),
    },
    {
      method: 'POST',
      path: '/api/builds',
      access: 'submit',
      body: 'json',
      handler: fromView(async (_request, response, { body, principal }) => {
        const submit = submitOf(vouchedFor(body, principal), randomUUID, new Date());
        authorizeProject(principal, submit.project);
        await ctx.publishSubmit(submit);
        ctx.logger.info(
          { principal: principal.name, project: submit.project, submitId: submit.submitId },
          'info-service: build submitted',
        );
        sendJson(response, 202, { submitId: submit.submitId });
      }),
    },
    {
      method: 'GET',
      path: '/api/builds/:buildId',
      access: 'read',
      handler: fromView((_request, response, { params }) => sendJson(response, 200, record(param(params, 'buildId')))),
    },
    {
      method: 'GET',
      path: '/api/builds/:buildId/log',
      access: 'read',
      handler: fromView((request, response, { params, query }) =>
        serveLog(
          ctx,
          request,
          response,
          param(params, 'buildId'),
          ['1', 'true', 'yes'].includes(query.get('follow') ?? ''),
        ),
      ),
    },
    {
      method: 'GET',
      path: '/api/builds/:buildId/artifacts',
      access: 'read',
      handler: fromView((_request, response, { params }) =>
        sendJson(response, 200, { artifacts: record(param(params, 'buildId')).artifacts }),
      ),
    },
    {
      method: 'GET',
      path: '/api/builds/:buildId/artifacts/*',
      access: 'read',
      handler: fromView(async (request, response, { params }) => {
        const buildId = param(params, 'buildId');
        const name = param(params, '*');
        const artifact = record(buildId).artifacts.find((a) => a.name === name);
        if (!artifact) throw new BuildfleetError('not-found', `build ${buildId} has no artifact ${name}`);
        await serveArtifact(ctx.store, request, response, artifact);
      }),
    },
    {
      method: 'POST',
      path: '/api/builds/:buildId/cancel',
      access: 'submit',
      body: 'json',
      handler: fromView(async (_request, response, { params, body, principal }) => {
        const buildId = param(params, 'buildId');
        authorizeProject(principal, record(buildId).project);
        await ctx.publishCancel(cancelOf(buildId, body, new Date()));
        ctx.logger.info({ principal: principal.name, buildId }, 'info-service: build cancelled');
        sendJson(response, 202, {});
      }),
    },
    {
      method: 'GET',
      path: '/api/submissions/:submitId',
      access: 'read',
      handler: fromView((_request, response, { params }) => {
        const submitId = param(params, 'submitId');
        const builds = ctx.view.bySubmitId(submitId);
        if (builds.length === 0) throw new BuildfleetError('not-found', `no build of submission ${submitId}`);
        sendJson(response, 200, submissionProgress(submitId, builds));
      }),
    },
    {
      method: 'GET',
      path: '/api/events',
      access: 'read',
      handler: (request, response, { query }) => serveEvents(ctx.events, request, response, eventFilterOf(query)),
    },
    {
      method: 'GET',
      path: '/api/projects/*',
      access: 'read',
      handler: fromView((_request, response, { params, query }) => {
        const project = param(params, '*');
        const target = query.get('target');
        const builds = ctx.view.latest(project, target ? targetOf(target) : undefined);
        if (builds.length === 0) throw new BuildfleetError('not-found', `no builds of project ${project}`);
        sendJson(response, 200, { project, builds });
      }),
    },
    {
      method: 'GET',
      path: '/api/graph',
      access: 'read',
      handler: async (_request, response, { query }) => {
        const graphQuery = graphQueryOf(query);
        if (!ctx.graphs) {
          throw new BuildfleetError(
            'sources-unconfigured',
            'this info service has no sources repository configured (info.sources.url), so it has no graph',
          );
        }
        // A client that goes away does not stop the computation: the next caller of the commit shares it.
        sendJson(response, 200, await ctx.graphs.graph(graphQuery));
      },
    },
    {
      method: 'GET',
      path: '/api/repos',
      access: 'read',
      handler: async (_request, response) => sendJson(response, 200, await listRepositories(ctx.store, ctx.publicUrl)),
    },
  ];
  if (ctx.serveRepos) {
    routes.push({
      method: 'GET',
      path: '/repos/*',
      access: 'public',
      handler: async (request, response) => void (await serveRepoFile(request, response)),
    });
  }
  return routes;
}
