/**
 * The ClusterClient on the info service's HTTP API (docs/api.md): JSON routes through fetch,
 * live events as server-sent events, the followed log as a streamed text body.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Type, type TSchema } from '@sinclair/typebox';
import { BuildfleetError, isErrorCode, toBuildfleetError } from '../../shared/errors/index.ts';
import {
  ArtifactSchema,
  BuildRecordSchema,
  checkedValue,
  decodeMessage,
  describeProblem,
  type Artifact,
  type BuildEvent,
  type BuildRecord,
  type InfoQueryListFilter,
} from '../../shared/messages/index.ts';
import type { RepoListing } from '../../shared/repos/catalog.ts';
import { writeDownload } from './download.ts';
import type { BuildQuery, ClusterClient, EventFilter, LogOptions, SubmitRequest, Watching } from './port.ts';
import { createSseParser } from './sse.ts';

export interface HttpClientOptions {
  /** Base URL of the API, without a trailing slash. */
  url: string;
  /** Bound on one request that is not a stream. @default 30000 */
  requestTimeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>` (BUILDFLEET_TOKEN, else the credentials file). @default none */
  token?: string;
}

const RecordList = Type.Array(BuildRecordSchema);
const RepoListingSchema = Type.Array(
  Type.Object({
    key: Type.String(),
    format: Type.String(),
    dist: Type.String(),
    url: Type.String(),
    keyUrl: Type.String(),
    version: Type.String(),
    publishedAt: Type.String(),
  }),
);

export function createHttpClient(options: HttpClientOptions): ClusterClient {
  const base = options.url;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;

  /** A request that must answer within the timeout (unless it is a stream the caller reads). */
  async function call(
    method: 'GET' | 'POST',
    path: string,
    init: { body?: unknown; signal?: AbortSignal; stream?: boolean; accept?: string } = {},
  ): Promise<Response> {
    const signals = [init.signal, init.stream ? undefined : AbortSignal.timeout(timeoutMs)].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          accept: init.accept ?? 'application/json',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      throw fetchError(error, base, path, init.signal);
    }
    if (!response.ok) throw await responseError(response, method, path);
    return response;
  }

  async function json<T>(schema: TSchema, response: Response, what: string): Promise<T> {
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new BuildfleetError('message-invalid', `${what}: the API answered with something that is not JSON`, {
        cause: error,
      });
    }
    checkedValue(
      schema,
      body,
      (problem) =>
        new BuildfleetError('message-invalid', `${what}: unexpected answer (${describeProblem(problem)})`, {
          context: { ...problem },
        }),
    );
    return body as T;
  }

  /** [] for a 404 (an unknown build or project), else the error. */
  async function orEmpty(request: () => Promise<BuildRecord[]>): Promise<BuildRecord[]> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof BuildfleetError && error.context.status === 404) return [];
      throw error;
    }
  }

  async function streamText(response: Response, onText: (text: string) => void, signal?: AbortSignal): Promise<void> {
    if (!response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        if (text) onText(text);
      }
      const rest = decoder.decode();
      if (rest) onText(rest);
    } catch (error) {
      if (signal?.aborted) return;
      throw new BuildfleetError('api-unavailable', `the connection to ${base} broke while streaming`, {
        cause: error,
      });
    }
  }

  const client: ClusterClient = {
    describe: () => base,

    async submit(request: SubmitRequest, signal?: AbortSignal) {
      const response = await call('POST', '/api/builds', { body: request, ...(signal ? { signal } : {}) });
      return json<{ submitId: string }>(Type.Object({ submitId: Type.String({ minLength: 1 }) }), response, 'submit');
    },

    async builds(query: BuildQuery, signal?: AbortSignal) {
      const opts = signal ? { signal } : {};
      if ('buildId' in query) {
        return orEmpty(async () => [
          await json<BuildRecord>(BuildRecordSchema, await call('GET', buildPath(query.buildId), opts), 'build'),
        ]);
      }
      if ('project' in query) {
        const target = query.target ? `?target=${encodeURIComponent(`${query.target.dist}.${query.target.arch}`)}` : '';
        const path = `/api/projects/${query.project.split('/').map(encodeURIComponent).join('/')}${target}`;
        return orEmpty(async () => {
          const body = await json<{ builds: BuildRecord[] }>(
            Type.Object({ builds: RecordList }),
            await call('GET', path, opts),
            'project status',
          );
          return body.builds;
        });
      }
      const response = await call('GET', `/api/builds${listParams(query.list)}`, opts);
      return (await json<{ builds: BuildRecord[] }>(Type.Object({ builds: RecordList }), response, 'builds')).builds;
    },

    async watch(filter: EventFilter, onEvent: (event: BuildEvent) => void, signal: AbortSignal): Promise<Watching> {
      const params = new URLSearchParams();
      if (filter.project) params.set('project', filter.project);
      if (filter.buildId) params.set('buildId', filter.buildId);
      if (filter.submitId) params.set('submitId', filter.submitId);
      const query = params.size > 0 ? `?${params.toString()}` : '';
      // A failing callback ends the watch: the stream is cut and `ended` rejects with its error.
      const cut = new AbortController();
      const streamSignal = AbortSignal.any([signal, cut.signal]);
      const response = await call('GET', `/api/events${query}`, {
        signal: streamSignal,
        stream: true,
        accept: 'text/event-stream',
      });
      const parser = createSseParser();
      let broken: BuildfleetError | undefined;
      const deliver = (data: string): void => {
        let event: BuildEvent;
        try {
          event = decodeMessage('build.event', JSON.parse(data));
        } catch {
          return; // an event this client cannot read is skipped, as a bus consumer would
        }
        try {
          onEvent(event);
        } catch (error) {
          broken ??= toBuildfleetError(error);
          cut.abort();
        }
      };
      const ended = (async () => {
        await streamText(
          response,
          (text) => {
            for (const event of parser.push(text)) if (event.event === 'build.event' && !broken) deliver(event.data);
          },
          streamSignal,
        );
        if (broken) throw broken;
        if (!signal.aborted) {
          throw new BuildfleetError('api-unavailable', `the event stream of ${base} ended (the service stopped?)`);
        }
      })();
      return { ended };
    },

    async logs(buildId: string, logOptions: LogOptions, onText: (text: string) => void, signal?: AbortSignal) {
      const response = await call('GET', `${buildPath(buildId)}/log${logOptions.follow ? '?follow=1' : ''}`, {
        ...(signal ? { signal } : {}),
        stream: true,
        accept: 'text/plain',
      });
      if (logOptions.follow) logOptions.onLive?.();
      await streamText(response, onText, signal);
    },

    async cancel(buildId: string, reason: string, signal?: AbortSignal) {
      await call('POST', `${buildPath(buildId)}/cancel`, { body: { reason }, ...(signal ? { signal } : {}) });
    },

    async artifacts(buildId: string, signal?: AbortSignal): Promise<Artifact[]> {
      const response = await call('GET', `${buildPath(buildId)}/artifacts`, signal ? { signal } : {});
      const schema = Type.Object({ artifacts: Type.Array(ArtifactSchema) });
      return (await json<{ artifacts: Artifact[] }>(schema, response, 'artifacts')).artifacts;
    },

    async download(buildId: string, name: string, destFile: string, signal?: AbortSignal) {
      const response = await call('GET', `${buildPath(buildId)}/artifacts/${encodeURIComponent(name)}`, {
        ...(signal ? { signal } : {}),
        stream: true,
        accept: 'application/octet-stream',
      });
      if (!response.body) throw new BuildfleetError('artifact-missing', `artifact ${name} of ${buildId} has no body`);
      return writeDownload(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), destFile, signal);
    },

    async repos(signal?: AbortSignal): Promise<RepoListing[]> {
      const response = await call('GET', '/api/repos', signal ? { signal } : {});
      return json<RepoListing[]>(RepoListingSchema, response, 'repos');
    },

    close: () => Promise.resolve(),
  };
  return client;
}

function buildPath(buildId: string): string {
  return `/api/builds/${encodeURIComponent(buildId)}`;
}

/** The list filter as the query string of GET /api/builds. */
export function listParams(filter: InfoQueryListFilter): string {
  const params = new URLSearchParams();
  if (filter.project) params.set('project', filter.project);
  if (filter.projectPrefix) params.set('projectPrefix', filter.projectPrefix);
  if (filter.submitId) params.set('submitId', filter.submitId);
  if (filter.states && filter.states.length > 0) params.set('state', filter.states.join(','));
  if (filter.dist) params.set('dist', filter.dist);
  if (filter.arch) params.set('arch', filter.arch);
  if (filter.since) params.set('since', filter.since);
  if (filter.limit !== undefined) params.set('limit', String(filter.limit));
  return params.size > 0 ? `?${params.toString()}` : '';
}

export function fetchError(
  error: unknown,
  base: string,
  path: string,
  signal: AbortSignal | undefined,
): BuildfleetError {
  if (signal?.aborted) return new BuildfleetError('aborted', `request to ${base}${path} aborted`, { cause: error });
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new BuildfleetError('api-unavailable', `${base}${path} did not answer in time`, { cause: error });
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
  return new BuildfleetError(
    'api-unavailable',
    `cannot reach the buildfleet API at ${base} (${cause}); is \`buildfleet up\` or an info service running there? ` +
      'Choose another with --api <url> / BUILDFLEET_API, or --brokers <list> for Kafka',
    { cause: error, context: { url: `${base}${path}` } },
  );
}

/** An error answer `{ error: { code, message } }` as a BuildfleetError carrying the status. */
export async function responseError(response: Response, method: string, path: string): Promise<BuildfleetError> {
  const text = await response.text().catch(() => '');
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // not the documented error shape: the status and text say what there is to say
  }
  const fallback = response.status === 404 ? 'not-found' : response.status === 503 ? 'api-unavailable' : 'internal';
  const known = isErrorCode(code) ? code : fallback;
  const unknownCode = code !== undefined && !isErrorCode(code) ? ` (${code})` : '';
  const what =
    message ?? `${method} ${path} answered ${response.status} ${text.trim().slice(0, 200) || response.statusText}`;
  return new BuildfleetError(known, `${what}${unknownCode}${authHint(response.status)}`, {
    context: { status: response.status, path },
  });
}

/** What to do about a 401 or 403 (docs/security.md). */
function authHint(status: number): string {
  if (status === 401) {
    return ' (HTTP 401: the API wants a valid token: set BUILDFLEET_TOKEN to one `buildfleet tokens create` made)';
  }
  if (status === 403) return ' (HTTP 403: the token is valid but its role or projects do not allow this)';
  return '';
}
