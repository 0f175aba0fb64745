/**
 * The noop kind end to end on real Kafka and s3proxy, with no container engine: a runner with
 * the host buildroot builds a noop package from a git sources repo, the collector publishes its
 * file in the signed image index of the repository, and the URL in the index serves the bytes.
 * A noop build is cancelled at once.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImagesIndex } from '../../collector/images/images-index.ts';
import { noopArtifactBytes } from '../../runner/builders/index.ts';
import type { Runner } from '../../runner/runner.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRequest } from '../../shared/messages/index.ts';
import { listRepositories } from '../../shared/repos/catalog.ts';
import { testRequest } from '../harness/cluster-fixtures.ts';
import { startTestCluster, type TestCluster } from '../harness/cluster.ts';
import { END_STATES, fetchBytes, sha256 } from '../harness/events.ts';
import { useKafka } from '../harness/kafka.ts';
import { useS3 } from '../harness/s3.ts';
import { waitFor } from '../harness/wait.ts';

// Top level: the harness's after() hooks then belong to the file, not to a hook or a test.
const [{ brokers }, s3] = await Promise.all([useKafka(), useS3()]);
const REPO_KEY = 'projects/bench/bookworm';

describe('noop builds (real Kafka and S3, host buildroot, no podman)', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let repoUrl: string;
  let commit: string;
  let runner: Runner;
  let publicUrl: string;

  before(async () => {
    cluster = await startTestCluster({ brokers, name: 'noop', s3 });
    const sources = await cluster.repos.create('sources');
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
    publicUrl = await cluster.serveRepos();
    runner = await cluster.startRunner({ id: 'noop-runner' });
    await cluster.startCollector({ publicUrl, keepVersions: 1 });
  });

  after(() => cluster?.stop());

  function request(project: string): BuildRequest {
    return testRequest({ project, dist: 'bookworm', kind: 'noop', url: repoUrl, commit });
  }

  const submit = (r: BuildRequest) => cluster.request(r);
  const reached = (buildId: string, states: ReadonlySet<string>, timeoutMs?: number) =>
    cluster.reached(buildId, states, timeoutMs);
  const store = () => cluster.store;

  it('builds a noop package without a buildroot and publishes its file in the signed image index', async () => {
    const r = request('projects/bench/n1');
    await submit(r);
    const end = await reached(r.buildId, END_STATES);
    assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
    assert.deepEqual(
      cluster.events
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
    assert.match((await store().get(end.logKey ?? '')).toString('utf8'), /no buildroot/);

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
    const gnupg = await cluster.repos.tempDir('gnupg');
    await writeFile(join(gnupg, 'key.asc'), await fetchBytes(`${imagesUrl}/key.asc`));
    await writeFile(join(gnupg, 'index.json'), indexBytes);
    await writeFile(join(gnupg, 'index.json.asc'), await fetchBytes(`${imagesUrl}/index.json.asc`));
    const gpg = (...args: string[]) =>
      runCommand('gpg', ['--homedir', gnupg, '--batch', ...args], { timeoutMs: 30_000 });
    await gpg('--import', join(gnupg, 'key.asc'));
    await gpg('--verify', join(gnupg, 'index.json.asc'), join(gnupg, 'index.json'));

    const listed = await listRepositories(store(), publicUrl);
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
    await cluster.cancel(r.buildId);
    const end = await reached(r.buildId, END_STATES, 30_000);
    const took = Date.now() - asked;
    t.diagnostic(`cancelled after ${took} ms`);
    assert.equal(end.state, 'cancelled');
    assert.ok(took < 3000, `cancelled at once (took ${took} ms)`);
    assert.ok(end.logKey && (await store().exists(end.logKey)), 'the log so far is stored');
    await waitFor(() => runner.running().length === 0, 'the slot to be free', 5000, 20);
  });
});
