/**
 * A small stand-in for the info service's HTTP API (docs/api.md), for the CLI tests: only the
 * routes the client commands call. A submission is "built" at once: its events go to the
 * server-sent event streams and its records, log and artifact are kept in memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { foldEvent } from '../../cli/format/submission.ts';
import {
  decodeMessage,
  type Artifact,
  type BuildEvent,
  type BuildRecord,
  type BuildState,
  type Target,
} from '../../shared/messages/index.ts';
import type { RepoListing } from '../../shared/repos/catalog.ts';
import { logText } from '../harness/cli-process.ts';

interface SubmitBody {
  project: string;
  targets?: Target[];
  ref?: string;
  submitId?: string;
  requestedBy?: string;
}

export interface ApiStub {
  url: string;
  submits: SubmitBody[];
  cancels: Array<{ buildId: string; reason: string }>;
  records: Map<string, BuildRecord>;
  repos: RepoListing[];
  /** Serve artifact bytes that do not match their sha256. */
  corrupt: boolean;
  close(): Promise<void>;
}

interface Listener {
  res: ServerResponse;
  filter: URLSearchParams;
}

const LOG = logText(30);

export async function startApiStub(): Promise<ApiStub> {
  const listeners = new Set<Listener>();
  const contents = new Map<string, string>();
  const stub: ApiStub = {
    url: '',
    submits: [],
    cancels: [],
    records: new Map(),
    corrupt: false,
    repos: [
      {
        key: 'projects/web/bookworm',
        format: 'apt',
        dist: 'bookworm',
        url: 'http://stub/repos/projects/web/bookworm/apt',
        keyUrl: 'http://stub/repos/projects/web/bookworm/apt/key.asc',
        version: 'v1',
        publishedAt: '2025-03-01T12:00:00.000Z',
      },
    ],
    close: async () => {
      for (const listener of listeners) listener.res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function emit(event: BuildEvent): void {
    const checked = decodeMessage('build.event', event);
    stub.records.set(checked.buildId, foldEvent(stub.records.get(checked.buildId), checked));
    for (const { res, filter } of listeners) {
      const project = filter.get('project');
      const submitId = filter.get('submitId');
      const buildId = filter.get('buildId');
      if (project && checked.project !== project) continue;
      if (submitId && checked.submitId !== submitId) continue;
      if (buildId && checked.buildId !== buildId) continue;
      res.write(`event: build.event\ndata: ${JSON.stringify(checked)}\n\n`);
    }
  }

  async function runBuild(submit: SubmitBody & { submitId: string }, target: Target, fails: boolean): Promise<void> {
    const buildId = randomUUID();
    const base = {
      v: 1,
      type: 'build.event',
      buildId,
      attempt: 1,
      buildKey: `${submit.project}@${target.dist}.${target.arch}`,
      project: submit.project,
      target,
      repoKey: `${submit.project.slice(0, submit.project.lastIndexOf('/'))}/${target.dist}`,
      source: { service: 'stub', instance: 'api' },
    } as const;
    const step = async (state: BuildState, extra: Partial<BuildEvent> = {}): Promise<void> => {
      emit({ ...base, state, at: new Date().toISOString(), ...extra });
      await sleep(10);
    };
    contents.set(`log/${buildId}`, LOG);
    await step('submitted', { submitId: submit.submitId });
    if (submit.project.endsWith('/stuck')) {
      await step('waiting', { reason: 'no runner for bookworm.x86_64' });
      return;
    }
    await step('claimed', { runnerId: 'stub-runner' });
    await step('building', { runnerId: 'stub-runner' });
    if (fails) {
      await step('failed', { runnerId: 'stub-runner', error: { code: 'build-failed', message: 'make failed' } });
      return;
    }
    const content = `package for ${target.arch}`;
    const artifact: Artifact = {
      name: `hello_${target.arch}.deb`,
      kind: 'deb',
      size: Buffer.byteLength(content),
      sha256: createHash('sha256').update(content).digest('hex'),
      key: `builds/${buildId}/1/hello_${target.arch}.deb`,
    };
    contents.set(artifact.key, content);
    await step('succeeded', {
      runnerId: 'stub-runner',
      artifacts: [artifact],
      logKey: `builds/${buildId}/1/build.log`,
    });
    await step('published', { repo: { url: 'http://stub/repos/projects/web/bookworm/apt', version: 'v1' } });
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  function notFound(res: ServerResponse, code: string, message: string): void {
    json(res, 404, { error: { code, message } });
  }

  async function bodyOf(req: IncomingMessage): Promise<unknown> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return text === '' ? {} : JSON.parse(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = url.pathname;
    const build = /^\/api\/builds\/([^/]+)(\/.*)?$/.exec(path);
    const record = build?.[1] ? stub.records.get(decodeURIComponent(build[1])) : undefined;

    if (req.method === 'POST' && path === '/api/builds') {
      const body = (await bodyOf(req)) as SubmitBody;
      stub.submits.push(body);
      const submitId = body.submitId ?? randomUUID();
      json(res, 202, { submitId });
      const targets = body.targets ?? [{ dist: 'bookworm', arch: 'x86_64' }];
      const fails = body.project.endsWith('/broken');
      await sleep(50);
      await Promise.all(targets.map((target) => runBuild({ ...body, submitId }, target, fails)));
      return;
    }
    if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': connected\n\n');
      const listener = { res, filter: url.searchParams };
      listeners.add(listener);
      req.on('close', () => listeners.delete(listener));
      return;
    }
    if (req.method === 'GET' && path === '/api/repos') return json(res, 200, stub.repos);
    if (req.method === 'GET' && path.startsWith('/api/projects/')) {
      const project = decodeURIComponent(path.slice('/api/projects/'.length));
      const builds = [...stub.records.values()].filter((r) => r.project === project);
      if (builds.length === 0) return notFound(res, 'not-found', `no builds of project ${project}`);
      return json(res, 200, { project, builds });
    }
    if (build && !record) return notFound(res, 'build-unknown', `build ${build[1]} is unknown`);
    if (build && record) {
      const rest = build[2] ?? '';
      if (req.method === 'GET' && rest === '') return json(res, 200, record);
      if (req.method === 'GET' && rest === '/log') {
        const text = contents.get(`log/${record.buildId}`) ?? '';
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        if (url.searchParams.get('follow') !== '1') return void res.end(text);
        // Streamed in pieces, cut in the middle of a line.
        res.write(text.slice(0, 25));
        await sleep(50);
        return void res.end(text.slice(25));
      }
      if (req.method === 'GET' && rest === '/artifacts') return json(res, 200, { artifacts: record.artifacts });
      const artifact = /^\/artifacts\/(.+)$/.exec(rest);
      if (req.method === 'GET' && artifact?.[1]) {
        const found = record.artifacts.find((a) => a.name === decodeURIComponent(artifact[1] ?? ''));
        const content = found ? contents.get(found.key) : undefined;
        if (content === undefined) return notFound(res, 'not-found', 'no such artifact');
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(stub.corrupt ? `${content}!` : content);
      }
      if (req.method === 'POST' && rest === '/cancel') {
        const body = (await bodyOf(req)) as { reason?: string };
        stub.cancels.push({ buildId: record.buildId, reason: body.reason ?? '' });
        return json(res, 202, {});
      }
    }
    notFound(res, 'not-found', `no route ${req.method} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: String(error) } });
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
