/**
 * The noop kind end to end on real Kafka and s3proxy, with no container engine: a runner with
 * the host buildroot builds a noop package from a git sources repo, the collector publishes its
 * file in the signed image index of the repository, and the URL in the index serves the bytes.
 * A noop build is cancelled at once.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createCollector, type Collector } from '../../collector/collector.ts';
import type { ImagesIndex } from '../../collector/images/images-index.ts';
import { createSigner } from '../../collector/signing/index.ts';
import { chooseBuildroot } from '../../runner/buildroot/index.ts';
import { builderFor, noopArtifactBytes } from '../../runner/builders/index.ts';
import { createRunner, type Runner } from '../../runner/runner.ts';
import type { Bus } from '../../shared/bus/index.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { decoderFor, topicNames, type BuildEvent, type BuildRequest } from '../../shared/messages/index.ts';
import { listRepositories } from '../../shared/repos/catalog.ts';
import { createRepoRequestHandler } from '../../shared/repos/http.ts';
import { createSourceMirror } from '../../shared/sources/index.ts';
import { createS3ArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { testRequest, testTopics } from '../harness/cluster-fixtures.ts';
import { testGitRepos, type TestGitRepos } from '../harness/git.ts';
import { testSigningKey } from '../harness/gpg.ts';
import { useKafka } from '../harness/kafka.ts';
import { createTestBucket, useS3 } from '../harness/s3.ts';
import { waitFor } from '../harness/wait.ts';

// Top level: the harness's after() hooks then belong to the file, not to a hook or a test.
const [{ brokers }, s3] = await Promise.all([useKafka(), useS3()]);
const END_STATES = new Set(['succeeded', 'failed', 'cancelled', 'timed-out']);
const REPO_KEY = 'projects/bench/bookworm';

describe('noop builds (real Kafka and S3, host buildroot, no podman)', { timeout: 300_000 }, () => {
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  const prefix = `nb${randomUUID().slice(0, 8)}`;
  const topics = topicNames(prefix);
  const events: BuildEvent[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  let bus: Bus;
  let store: ArtifactStore;
  let repos: TestGitRepos;
  let repoUrl: string;
  let commit: string;
  let runner: Runner;
  let collector: Collector;
  let publicUrl: string;

  before(async () => {
    repos = await testGitRepos('buildfleet-noop-');
    cleanups.push(() => repos.cleanup());
    const work = await repos.tempDir('work');
    const bucket = await createTestBucket(s3, 'noop');
    cleanups.push(() => bucket.remove());
    store = await createS3ArtifactStore({
      bucket: bucket.name,
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    cleanups.push(() => store.close());
    const signer = await createSigner({ armoredPrivateKey: (await testSigningKey()).armoredPrivateKey, workDir: work });
    cleanups.push(() => signer.close());
    bus = createKafkaBus({ brokers, clientId: 'noop-test', topicPrefix: prefix, logger, heartbeatIntervalMs: 500 });
    cleanups.push(() => bus.close());
    await bus.ensureTopics(testTopics(prefix, 1));
    const watch = await bus.subscribe<BuildEvent>({
      name: 'noop-test-events',
      topics: [topics.events],
      decode: decoderFor('build.event'),
      handle: async (r) => void events.push(r.value),
    });
    await watch.ready;

    const sources = await repos.create('sources');
    await sources.write({
      // A dist whose buildroot could not even be made (an image base): noop builds need none.
      'dists/bookworm.yml': 'format: deb\nbase: { image: localhost/none:1 }\n',
      'projects/bench/n1/buildfleet.yml':
        'kind: noop\ntargets: [{ dist: bookworm, arch: x86_64 }]\nnoop: { ms: 200, bytes: 4096 }\n',
      'projects/bench/slow/buildfleet.yml':
        'kind: noop\ntargets: [{ dist: bookworm, arch: x86_64 }]\nnoop: { ms: 600000 }\n',
    });
    commit = await sources.commit('noop packages');
    repoUrl = sources.url;

    const handle = createRepoRequestHandler(store);
    const server: Server = createServer((req, res) => {
      void handle(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repos`;

    await mkdir(join(work, 'runner'), { recursive: true });
    runner = createRunner({
      runnerId: 'noop-runner',
      group: 'default',
      arches: ['x86_64'],
      slots: 2,
      heartbeatMs: 1000,
      graceMs: 2000,
      bus,
      logger,
      job: {
        sources: createSourceMirror({ cacheDir: join(work, 'git'), logger }),
        store,
        buildroot: await chooseBuildroot({ preferred: 'host', cacheDir: join(work, 'cache'), logger }),
        builderFor,
        workDir: join(work, 'runner'),
        limits: { memoryMb: 1024, pids: 1024, timeoutMinutes: 20 },
      },
    });
    await runner.start();
    cleanups.push(() => runner.stop());
    collector = createCollector({
      instanceId: 'noop-collector',
      bus,
      store,
      signer,
      logger,
      publicUrl,
      workDir: join(work, 'collector'),
      keepVersions: 1,
      coalesceMs: 100,
      retryMs: 1000,
    });
    await collector.start();
    cleanups.push(() => collector.stop());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  function request(project: string): BuildRequest {
    return testRequest({ project, dist: 'bookworm', kind: 'noop', url: repoUrl, commit });
  }

  async function submit(r: BuildRequest): Promise<void> {
    await bus.publish(topics.requests('default', 'x86_64'), { key: r.buildKey, value: r });
  }

  async function reached(buildId: string, states: Set<string>, timeoutMs = 60_000): Promise<BuildEvent> {
    const find = () => events.find((e) => e.buildId === buildId && states.has(e.state));
    await waitFor(() => find() !== undefined, `build ${buildId} to reach ${[...states].join('/')}`, timeoutMs, 50);
    return find() as BuildEvent;
  }

  async function fetchBytes(url: string): Promise<Buffer> {
    const response = await fetch(url);
    assert.equal(response.status, 200, url);
    return Buffer.from(await response.arrayBuffer());
  }

  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('builds a noop package without a buildroot and publishes its file in the signed image index', async () => {
    const r = request('projects/bench/n1');
    await submit(r);
    const end = await reached(r.buildId, END_STATES);
    assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
    assert.deepEqual(
      events
        .filter((e) => e.buildId === r.buildId && e.source.service === 'runner' && e.state !== 'heartbeat')
        .map((e) => e.state),
      ['claimed', 'preparing', 'building', 'uploading', 'succeeded'],
    );
    assert.ok(end.durations?.buildroot !== undefined && end.durations.buildroot < 1000, 'no buildroot prepared');
    assert.ok((end.durations?.build ?? 0) >= 190, 'waited the package noop.ms');
    const name = `n1_${commit.slice(0, 12)}.noop`;
    const expected = noopArtifactBytes({ buildId: r.buildId, commit }, 4096);
    assert.deepEqual(
      end.artifacts?.map((a) => [a.name, a.kind, a.size, a.sha256]),
      [[name, 'other', 4096, sha256(expected)]],
    );
    assert.match((await store.get(end.logKey ?? '')).toString('utf8'), /no buildroot/);

    const published = await reached(r.buildId, new Set(['published']));
    const imagesUrl = `${publicUrl}/${REPO_KEY}/images`;
    assert.equal(published.repo?.url, imagesUrl);
    const indexBytes = await fetchBytes(`${imagesUrl}/index.json`);
    const index = JSON.parse(indexBytes.toString('utf8')) as ImagesIndex;
    assert.equal(index.repoKey, REPO_KEY);
    assert.equal(index.version, published.repo?.version);
    const item = index.items.find((i) => i.buildId === r.buildId);
    assert.ok(item, 'the build is in the index');
    assert.equal(item.name, name);
    assert.equal(item.sha256, sha256(expected));
    assert.equal(item.buildKey, r.buildKey);
    assert.equal(item.commit, commit);
    assert.equal(item.url, `${imagesUrl}/files/${r.buildId}/${name}`);
    assert.deepEqual(await fetchBytes(item.url), expected, 'the index URL serves the artifact');

    // index.json.asc is a valid signature of index.json by the key published beside it.
    const gnupg = await repos.tempDir('gnupg');
    await writeFile(join(gnupg, 'key.asc'), await fetchBytes(`${imagesUrl}/key.asc`));
    await writeFile(join(gnupg, 'index.json'), indexBytes);
    await writeFile(join(gnupg, 'index.json.asc'), await fetchBytes(`${imagesUrl}/index.json.asc`));
    const gpg = (...args: string[]) =>
      runCommand('gpg', ['--homedir', gnupg, '--batch', ...args], { timeoutMs: 30_000 });
    await gpg('--import', join(gnupg, 'key.asc'));
    await gpg('--verify', join(gnupg, 'index.json.asc'), join(gnupg, 'index.json'));

    const listed = await listRepositories(store, publicUrl);
    assert.deepEqual(
      listed.filter((l) => l.key === REPO_KEY).map((l) => [l.format, l.dist, l.url, l.version]),
      [['images', 'bookworm', imagesUrl, index.version]],
    );
  });

  it('keeps the newest keepVersions builds of a build key, with their files', async () => {
    const r = request('projects/bench/n1');
    await submit(r);
    const published = await reached(r.buildId, new Set(['published', 'failed']));
    assert.equal(published.state, 'published', JSON.stringify(published.error));
    const index = JSON.parse(
      (await fetchBytes(`${publicUrl}/${REPO_KEY}/images/index.json`)).toString('utf8'),
    ) as ImagesIndex;
    assert.deepEqual(
      index.items.map((i) => i.buildId),
      [r.buildId],
      'keepVersions 1: only the newest build of the key',
    );
    const item = index.items[0];
    assert.ok(item?.url);
    assert.equal(sha256(await fetchBytes(item.url)), item.sha256);
  });

  it('cancels a running noop build at once', async (t) => {
    const r = request('projects/bench/slow');
    await submit(r);
    await reached(r.buildId, new Set(['building']));
    const asked = Date.now();
    await bus.publish(topics.control, {
      key: r.buildId,
      value: { v: 1, type: 'control.cancel', buildId: r.buildId, reason: 'test cancel', at: new Date().toISOString() },
    });
    const end = await reached(r.buildId, END_STATES, 30_000);
    const took = Date.now() - asked;
    t.diagnostic(`cancelled after ${took} ms`);
    assert.equal(end.state, 'cancelled');
    assert.ok(took < 3000, `cancelled at once (took ${took} ms)`);
    assert.ok(end.logKey && (await store.exists(end.logKey)), 'the log so far is stored');
    await waitFor(() => runner.running().length === 0, 'the slot to be free', 5000, 20);
  });
});
