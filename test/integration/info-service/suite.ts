/**
 * The info service end to end on a real bus (Kafka, or the embedded bus) and a filesystem
 * artifact store: a realistic run of build events and log chunks goes in; info queries over the
 * bus and every route of docs/api.md come out; bad input is dead-lettered or answered 400; a
 * new instance rebuilds the same view.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createInfoService, type InfoService } from '../../../info-service/info-service.ts';
import type { InfoHttpServer } from '../../../info-service/http/server.ts';
import type { Bus } from '../../../shared/bus/index.ts';
import { createHttpAuth, createTokenSource } from '../../../shared/http/index.ts';
import {
  buildKeyOf,
  decoderFor,
  isMessage,
  repoKeyOf,
  topicNames,
  type Artifact,
  type BuildEvent,
  type BuildRecord,
  type BuildState,
  type BuildSubmit,
  type ControlCancel,
  type Deadletter,
  type InfoAnswer,
  type LogChunk,
} from '../../../shared/messages/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../../shared/storage/index.ts';
import { testTopics } from '../../harness/cluster-fixtures.ts';
import { waitFor } from '../../harness/wait.ts';

/** As `buildfleet up --insecure-local`: no tokens, anonymous requests may submit. */
const anyoneMaySubmit = createHttpAuth({ anonymous: 'submit', tokens: createTokenSource({}) });

export interface InfoSuiteSetup {
  /** A new bus client on the suite's cluster (each call is a separate instance). */
  client(prefix: string): Bus;
  /** How long a bus request may take (Kafka joins a reply group first). */
  requestTimeoutMs: number;
}

const project = 'projects/demo/hello-deb';
const target = { dist: 'bookworm', arch: 'x86_64' };
const buildKey = buildKeyOf(project, target);
const repoKey = repoKeyOf(project, target.dist);

/** Reads a streamed response until `done(text)` holds or the stream ends; bounded by `timeoutMs`. */
async function readStream(
  url: string,
  done: (text: string) => boolean,
  timeoutMs: number,
  onOpen?: () => Promise<void>,
): Promise<{ text: string; ended: boolean }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let text = '';
  let ended = false;
  try {
    const response = await fetch(url, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.ok(response.body);
    const decoder = new TextDecoder();
    const opened = onOpen?.();
    ended = true;
    for await (const piece of response.body as AsyncIterable<Uint8Array>) {
      text += decoder.decode(piece, { stream: true });
      if (done(text)) {
        ended = false;
        break;
      }
    }
    await opened;
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    throw new Error(`stream ${url} did not deliver what was expected in ${timeoutMs} ms; got:\n${text}`);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { text, ended };
}

export function infoServiceSuite(adapter: string, setup: () => Promise<InfoSuiteSetup>): void {
  describe(`info service (${adapter} bus, filesystem store)`, { timeout: 300_000 }, () => {
    const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
    const prefix = `info${randomUUID().slice(0, 8)}`;
    const topics = topicNames(prefix);
    const cleanups: Array<() => Promise<void>> = [];
    const deadletters: Deadletter[] = [];
    const submits: BuildSubmit[] = [];
    const cancels: ControlCancel[] = [];
    let fixture: InfoSuiteSetup;
    let producer: Bus;
    let asker: Bus;
    let store: ArtifactStore;
    let service: InfoService;
    let server: InfoHttpServer;
    let api = '';
    let clock = Date.parse('2025-06-01T08:00:00.000Z');
    const doneId = randomUUID();
    const runningId = randomUUID();
    const deb = randomBytes(200_000);
    const storedLog = 'step 1\nstep 2\nbuild ok\n';
    const artifact: Artifact = {
      name: 'hello_1.0_all.deb',
      kind: 'deb',
      size: deb.length,
      sha256: createHash('sha256').update(deb).digest('hex'),
      key: `builds/${doneId}/1/hello_1.0_all.deb`,
    };

    function event(buildId: string, state: BuildState, more: Partial<BuildEvent> = {}): BuildEvent {
      clock += 1000;
      return {
        v: 1,
        type: 'build.event',
        buildId,
        attempt: 1,
        buildKey,
        project,
        target,
        repoKey,
        state,
        at: new Date(clock).toISOString(),
        source: { service: 'scheduler', instance: 'sched-1' },
        submitId: `submit-${buildId}`,
        commit: 'a'.repeat(40),
        ...more,
      };
    }
    const onRunner = (more: Partial<BuildEvent> = {}): Partial<BuildEvent> => ({
      source: { service: 'runner', instance: 'runner-1' },
      runnerId: 'runner-1',
      ...more,
    });
    const publishEvents = (...events: BuildEvent[]): Promise<void> =>
      producer.publish(
        topics.events,
        events.map((value) => ({ key: value.repoKey, value })),
      );
    const chunk = (seq: number, lines: string[], final = false): LogChunk => ({
      v: 1,
      type: 'log.chunk',
      buildId: runningId,
      attempt: 1,
      seq,
      lines,
      at: new Date().toISOString(),
      ...(final ? { final: true } : {}),
    });
    const ask = (question: Record<string, unknown>): Promise<InfoAnswer> =>
      asker.request({
        topic: topics.infoRequests,
        replyTopic: topics.infoResponses,
        key: 'q',
        value: { v: 1, type: 'info.query', queryId: randomUUID(), replyTo: asker.instanceId, ...question },
        decode: decoderFor('info.answer'),
        timeoutMs: fixture.requestTimeoutMs,
      });
    const getJson = async (path: string): Promise<{ status: number; body: unknown }> => {
      const response = await fetch(`${api}${path}`);
      return { status: response.status, body: await response.json() };
    };

    function startService(bus: Bus): InfoService {
      return createInfoService({
        bus,
        store,
        logger,
        instanceId: `info-${randomUUID().slice(0, 6)}`,
        publicUrl: 'http://127.0.0.1:1/repos',
        serveRepos: true,
        catchUpQuietMs: 5000,
        keepAliveMs: 500,
        logSettleMs: 2000,
      });
    }

    before(async () => {
      fixture = await setup();
      const dir = await mkdtemp(join(tmpdir(), 'buildfleet-info-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      store = await createFsArtifactStore({ root: dir });
      cleanups.push(() => store.close());
      producer = fixture.client(prefix);
      cleanups.push(() => producer.close());
      await producer.ensureTopics(testTopics(prefix, 2));
      await store.put(artifact.key, deb);
      await store.put(`builds/${doneId}/1/build.log`, storedLog);

      // History before the service starts: one build all the way to published, one running.
      await publishEvents(
        event(doneId, 'submitted'),
        event(doneId, 'queued'),
        event(doneId, 'claimed', onRunner({ leaseMs: 60_000 })),
        event(doneId, 'heartbeat', onRunner({ leaseMs: 60_000 })),
        event(doneId, 'building', onRunner()),
        event(
          doneId,
          'succeeded',
          onRunner({
            artifacts: [artifact],
            logKey: `builds/${doneId}/1/build.log`,
            durations: { checkout: 10, buildroot: 20, build: 30, upload: 40 },
          }),
        ),
        event(doneId, 'published', {
          source: { service: 'collector', instance: 'col-1' },
          repo: { url: 'http://127.0.0.1:1/repos/projects/demo/bookworm/apt', version: 'v1' },
        }),
      );
      // A malformed event in the history must not stop the replay.
      await producer.publish(topics.events, { key: repoKey, value: { v: 1, type: 'build.event', buildId: 'x' } });
      await publishEvents(
        event(runningId, 'submitted'),
        event(runningId, 'queued'),
        event(runningId, 'claimed', onRunner({ leaseMs: 60_000 })),
        event(runningId, 'building', onRunner()),
      );

      const watcher = fixture.client(prefix);
      cleanups.push(() => watcher.close());
      const subs = await Promise.all([
        watcher.subscribe<Deadletter>({
          name: 'dl-watch',
          topics: [topics.deadletter],
          start: 'earliest',
          decode: decoderFor('deadletter'),
          handle: async (r) => void deadletters.push(r.value),
        }),
        watcher.subscribe<BuildSubmit>({
          name: 'submit-watch',
          topics: [topics.submit],
          decode: decoderFor('build.submit'),
          handle: async (r) => void submits.push(r.value),
        }),
        watcher.subscribe<ControlCancel>({
          name: 'control-watch',
          topics: [topics.control],
          decode: decoderFor('control.cancel'),
          handle: async (r) => void cancels.push(r.value),
        }),
      ]);
      await Promise.all(subs.map((s) => s.ready));

      const serviceBus = fixture.client(prefix);
      cleanups.push(() => serviceBus.close());
      service = startService(serviceBus);
      cleanups.push(() => service.stop());
      // This suite is about what the API does; test/integration/http-auth.test.ts is about who may.
      server = await service.listen({ port: 0, auth: anyoneMaySubmit });
      cleanups.push(() => server.close());
      api = server.url;
      const starting = await fetch(`${api}/healthz`);
      assert.ok([200, 503].includes(starting.status));
      await service.start();
      asker = fixture.client(prefix);
      cleanups.push(() => asker.close());
    });

    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    });

    it('has caught up with the history and is healthy', async () => {
      assert.equal(service.caughtUp, true);
      const { status, body } = await getJson('/healthz');
      assert.equal(status, 200);
      assert.deepEqual(body, { status: 'ok' });
      const done = service.view.get(doneId);
      assert.equal(done?.state, 'published');
      assert.deepEqual(
        done?.history.map((h) => h.state),
        ['submitted', 'queued', 'claimed', 'building', 'succeeded', 'published'],
      );
      assert.equal(service.view.get(runningId)?.state, 'building');
      await waitFor(
        () => deadletters.some((d) => d.sourceTopic === topics.events && d.payload.includes('"buildId":"x"')),
        'the malformed event to be dead-lettered',
      );
    });

    it('answers info queries over the bus: by build, by project, by list filter', async () => {
      const byId = await ask({ buildId: doneId });
      assert.ok(isMessage('info.answer', byId));
      assert.equal(byId.builds.length, 1);
      const record = byId.builds[0] as BuildRecord;
      assert.equal(record.state, 'published');
      assert.deepEqual(record.artifacts, [artifact]);
      assert.equal(record.logKey, `builds/${doneId}/1/build.log`);
      assert.equal(record.repo?.version, 'v1');
      assert.equal(record.runnerId, 'runner-1');
      assert.equal(byId.source?.service, 'info-service');

      const byProject = await ask({ project, target });
      assert.deepEqual(
        byProject.builds.map((b) => b.buildId),
        [runningId],
        'the latest build of the target',
      );
      const list = await ask({ list: { states: ['published'], projectPrefix: 'projects/demo/' } });
      assert.deepEqual(
        list.builds.map((b) => b.buildId),
        [doneId],
      );
      const unknown = await ask({ buildId: randomUUID() });
      assert.deepEqual(unknown.builds, []);
    });

    it('serves builds, projects and lists over HTTP', async () => {
      const one = await getJson(`/api/builds/${doneId}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, service.view.get(doneId));
      const missing = await getJson(`/api/builds/${randomUUID()}`);
      assert.equal(missing.status, 404);
      assert.equal((missing.body as { error: { code: string } }).error.code, 'build-unknown');

      const projectAnswer = await getJson(`/api/projects/${project}`);
      assert.equal(projectAnswer.status, 200);
      const projectBody = projectAnswer.body as { project: string; builds: BuildRecord[] };
      assert.equal(projectBody.project, project);
      assert.deepEqual(
        projectBody.builds.map((b) => b.buildId),
        [runningId],
      );
      const withTarget = await getJson(`/api/projects/${project}?target=bookworm.x86_64`);
      assert.equal((withTarget.body as { builds: unknown[] }).builds.length, 1);
      assert.equal((await getJson('/api/projects/projects/none')).status, 404);

      const published = await getJson('/api/builds?state=published');
      assert.deepEqual(published.body, { builds: [service.view.get(doneId)], truncated: false });
      const limited = await getJson(`/api/builds?project=${encodeURIComponent(project)}&limit=1`);
      const limitedBody = limited.body as { builds: BuildRecord[]; truncated: boolean };
      assert.equal(limitedBody.builds.length, 1);
      assert.equal(limitedBody.truncated, true);
      assert.equal((await getJson('/api/builds?state=nonsense')).status, 400);
      assert.equal((await getJson('/api/builds?limit=0')).status, 400);
      assert.equal((await getJson(`/api/builds?submitId=submit-${doneId}`)).status, 200);
      const repos = await getJson('/api/repos');
      assert.deepEqual(repos.body, []);
      const dashboard = await fetch(`${api}/`);
      assert.equal(dashboard.status, 200);
      assert.match(await dashboard.text(), /<table>/);
    });

    it('serves the stored log and artifacts byte for byte', async () => {
      const log = await fetch(`${api}/api/builds/${doneId}/log`);
      assert.equal(log.status, 200);
      assert.equal(await log.text(), storedLog);
      const list = await getJson(`/api/builds/${doneId}/artifacts`);
      assert.deepEqual(list.body, { artifacts: [artifact] });
      const download = await fetch(`${api}/api/builds/${doneId}/artifacts/${artifact.name}`);
      assert.equal(download.status, 200);
      assert.ok(Buffer.from(await download.arrayBuffer()).equals(deb));
      assert.equal((await fetch(`${api}/api/builds/${doneId}/artifacts/nope.deb`)).status, 404);
    });

    it('streams the log of a running build until its final chunk', async () => {
      await producer.publish(topics.logs, { key: runningId, value: chunk(0, ['compiling a.c', 'compiling b.c']) });
      await waitFor(
        async () => (await (await fetch(`${api}/api/builds/${runningId}/log`)).text()) !== '',
        'live lines',
      );
      const sofar = await (await fetch(`${api}/api/builds/${runningId}/log`)).text();
      assert.equal(sofar, 'compiling a.c\ncompiling b.c\n');
      const followed = await readStream(
        `${api}/api/builds/${runningId}/log?follow=1`,
        () => false,
        60_000,
        async () => {
          await producer.publish(topics.logs, { key: runningId, value: chunk(1, ['linking']) });
          await producer.publish(topics.logs, { key: runningId, value: chunk(2, ['done'], true) });
        },
      );
      assert.equal(followed.ended, true, 'the response ends with the final chunk');
      assert.equal(followed.text, 'compiling a.c\ncompiling b.c\nlinking\ndone\n');
    });

    it('sends live events to server-sent-event clients, filtered', async () => {
      const newId = randomUUID();
      const { text } = await readStream(
        `${api}/api/events?buildId=${newId}`,
        (t) => t.includes(`"buildId":"${newId}"`) && t.includes('keep-alive'),
        60_000,
        async () => {
          await publishEvents(event(runningId, 'heartbeat', onRunner({ leaseMs: 60_000 })));
          await publishEvents(event(newId, 'submitted'));
        },
      );
      const frames = text.split('\n\n').filter((f) => f.startsWith('event: build.event'));
      assert.equal(frames.length, 1, 'only the events of the filtered build');
      const data = JSON.parse((frames[0] ?? '').split('\ndata: ')[1] ?? '') as unknown;
      assert.ok(isMessage('build.event', data));
      assert.equal(data.buildId, newId);
    });

    it('publishes build.submit and control.cancel for POSTs', async () => {
      const posted = await fetch(`${api}/api/builds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ project, targets: [target], ref: 'main', requestedBy: 'alice' }),
      });
      assert.equal(posted.status, 202);
      const { submitId } = (await posted.json()) as { submitId: string };
      assert.match(submitId, /^[0-9a-f-]{36}$/);
      await waitFor(() => submits.some((s) => s.submitId === submitId), 'the build.submit');
      const submit = submits.find((s) => s.submitId === submitId);
      assert.equal(submit?.project, project);
      assert.deepEqual(submit?.targets, [target]);
      assert.equal(submit?.requestedBy, 'alice');

      const mine = await fetch(`${api}/api/builds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ project, submitId: 'my-own-id' }),
      });
      assert.deepEqual(await mine.json(), { submitId: 'my-own-id' });

      const cancel = await fetch(`${api}/api/builds/${runningId}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'not needed' }),
      });
      assert.equal(cancel.status, 202);
      await waitFor(() => cancels.some((c) => c.buildId === runningId), 'the control.cancel');
      assert.equal(cancels.find((c) => c.buildId === runningId)?.reason, 'not needed');
      const unknown = await fetch(`${api}/api/builds/${randomUUID()}/cancel`, { method: 'POST' });
      assert.equal(unknown.status, 404);
    });

    it('answers bad input with 400 or 404 and keeps going', async () => {
      const json = { 'content-type': 'application/json' };
      const badJson = await fetch(`${api}/api/builds`, { method: 'POST', headers: json, body: '{"project": ' });
      assert.equal(badJson.status, 400);
      assert.equal(((await badJson.json()) as { error: { code: string } }).error.code, 'request-invalid');
      const badSubmit = await fetch(`${api}/api/builds`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ targets: 3 }),
      });
      assert.equal(badSubmit.status, 400);
      // A body that is not declared JSON (fetch says text/plain, as a cross-site form could) is 415.
      const notJson = await fetch(`${api}/api/builds`, { method: 'POST', body: JSON.stringify({ project }) });
      assert.equal(notJson.status, 415);
      assert.equal(((await notJson.json()) as { error: { code: string } }).error.code, 'request-invalid');
      assert.equal((await fetch(`${api}/api/nothing`)).status, 404);
      assert.equal((await fetch(`${api}/api/builds/${doneId}`, { method: 'DELETE' })).status, 405);
      assert.equal((await fetch(`${api}/api/builds/%E0%A4%A`)).status, 400);
      const metrics = await fetch(`${api}/metrics`);
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.match(text, /buildfleet_builds_total\{[^}]*state="published"/);
      assert.match(text, /buildfleet_http_request_duration_seconds_count\{[^}]*route="\/api\/builds\/:buildId"/);
    });

    it('dead-letters malformed events and queries and keeps answering', async () => {
      await producer.publish(topics.events, { key: repoKey, value: { v: 1, type: 'build.event', state: 'nope' } });
      await producer.publish(topics.infoRequests, { key: 'q', value: { v: 1, type: 'info.query', queryId: 'q' } });
      await waitFor(
        () =>
          deadletters.some((d) => d.sourceTopic === topics.events && d.payload.includes('nope')) &&
          deadletters.some((d) => d.sourceTopic === topics.infoRequests),
        'both to be dead-lettered',
        60_000,
      );
      const latest = event(runningId, 'cancelled', onRunner({ error: { code: 'aborted', message: 'cancelled' } }));
      await publishEvents(latest);
      await waitFor(() => service.view.stateOf(runningId) === 'cancelled', 'the cancelled event to be read');
      const answer = await ask({ buildId: runningId });
      assert.equal(answer.builds[0]?.state, 'cancelled');
    });

    it('serves extra routes of an outer process on the same port', async () => {
      const outer = await service.listen({
        port: 0,
        auth: anyoneMaySubmit,
        extraRoutes: [
          {
            method: 'POST',
            path: '/hooks/git',
            access: 'public',
            handler: (_request, response) => void response.writeHead(200).end('hooked'),
          },
          {
            method: 'GET',
            path: '/broken',
            access: 'public',
            handler: () => Promise.reject(new Error('route failed')),
          },
        ],
      });
      try {
        const hooked = await fetch(`${outer.url}/hooks/git`, { method: 'POST', body: '{}' });
        assert.equal(await hooked.text(), 'hooked');
        const get = await fetch(`${outer.url}/hooks/git`);
        assert.equal(get.status, 405, 'other methods are refused');
        assert.equal(get.headers.get('allow'), 'POST');
        assert.equal((await fetch(`${outer.url}/broken`)).status, 500);
        assert.equal((await fetch(`${outer.url}/api/builds/${doneId}`)).status, 200, 'the API is there too');
      } finally {
        await outer.close();
      }
    });

    it('a new instance rebuilds the same view from the events topic', async () => {
      const bus = fixture.client(prefix);
      const again = startService(bus);
      try {
        await again.start();
        for (const id of [doneId, runningId]) assert.deepEqual(again.view.get(id), service.view.get(id));
        assert.deepEqual(again.view.list({ limit: 1000 }), service.view.list({ limit: 1000 }));
      } finally {
        await again.stop();
        await bus.close();
      }
    });
  });
}
