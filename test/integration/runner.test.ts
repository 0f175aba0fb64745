/**
 * The runner end to end: build requests produced to a real Kafka topic, builds in Podman
 * container buildroots, artifacts and logs in a real S3 server (s3proxy).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildEvent, BuildRequest, LogChunk } from '../../shared/messages/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { chooseBuildroot } from '../../runner/buildroot/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import type { Runner } from '../../runner/runner.ts';
import { startTestCluster, type TestCluster } from '../harness/cluster.ts';
import { END_STATES } from '../harness/events.ts';
import { useKafka } from '../harness/kafka.ts';
import { usePodman } from '../harness/podman.ts';
import { useS3 } from '../harness/s3.ts';
import type { TestGitRepo, TestGitRepos } from '../harness/git.ts';
import { exampleSourcesRepo, testRequest } from '../harness/cluster-fixtures.ts';
import { waitFor } from '../harness/wait.ts';
import { debPackage } from './runner/fixtures.ts';

// Top level: the harness's after() hooks then belong to the file, not to a hook or a test.
const [{ brokers }, s3, podman] = await Promise.all([useKafka(), useS3(), usePodman()]);

describe('runner (real Kafka, S3 and Podman)', { timeout: 1_500_000 }, () => {
  let cluster: TestCluster;
  let events: BuildEvent[] = [];
  let logs: LogChunk[] = [];
  let store: ArtifactStore;
  let repos: TestGitRepos;
  let repo: TestGitRepo;
  let commit: string;
  let runner: Runner;

  before(async () => {
    cluster = await startTestCluster({ brokers, name: 'runner', s3, partitions: 2, logs: true });
    ({ events, logs, store, repos } = cluster);
    repo = await exampleSourcesRepo(repos);
    const mirror = (await lookup('deb.debian.org', { family: 4 })).address;
    await repo.write({
      ...debPackage('slow', 'sleep 300'),
      ...debPackage('fails-compile', "echo 'int main(void) { return undefined_symbol; }' > x.c && cc -o x x.c"),
      ...debPackage('wants-network', `bash -c 'exec 3<>/dev/tcp/${mirror}/80' && echo NETWORK-REACHABLE`),
      ...debPackage('quick', 'echo quick build'),
      'projects/test/invalid-meta/buildfleet.yml': 'kind: deb\ntargets:\n  - { dist: bookworm, arch: 7 }\n',
    });
    for (const name of ['slow', 'fails-compile', 'wants-network', 'quick']) {
      await chmod(join(repo.dir, `projects/test/${name}/debian/rules`), 0o755);
    }
    commit = await repo.commit('sources for the runner tests');

    const buildroot = await chooseBuildroot({
      preferred: 'container',
      engine: createDockerodeEngine({ socketPath: podman.socketPath }),
      cacheDir: join(cluster.work, 'buildroot-cache'),
      logger: cluster.logger,
    });
    runner = await cluster.startRunner({ id: 'test-runner-1', slots: 1, graceMs: 5000, buildroot, limit: 2048 });
  });

  after(() => cluster?.stop());

  function request(project: string, dist: string, kind: BuildRequest['kind'], at = commit): BuildRequest {
    return testRequest({ project, dist, kind, url: repo.url, commit: at });
  }

  const submit = (r: BuildRequest) => cluster.request(r);

  function stateOf(buildId: string): BuildEvent | undefined {
    return events.filter((e) => e.buildId === buildId && END_STATES.has(e.state)).at(-1);
  }

  async function ended(buildId: string, timeoutMs = 600_000): Promise<BuildEvent> {
    await waitFor(() => stateOf(buildId) !== undefined, `build ${buildId} to end`, timeoutMs, 200);
    return stateOf(buildId) as BuildEvent;
  }

  it('builds the deb example: succeeded, artifacts byte-identical in S3, the package installs and runs', async () => {
    const r = request('projects/demo/hello-deb', 'bookworm', 'deb');
    await submit(r);
    const end = await ended(r.buildId);
    assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
    const states = events
      .filter((e) => e.buildId === r.buildId)
      .map((e) => e.state)
      .filter((s) => s !== 'heartbeat');
    assert.deepEqual(states, ['claimed', 'preparing', 'building', 'uploading', 'succeeded']);
    assert.equal(end.runnerId, 'test-runner-1');
    assert.ok(
      end.durations?.checkout !== undefined && end.durations.build !== undefined && end.durations.upload !== undefined,
    );
    const debs = (end.artifacts ?? []).filter((a) => a.kind === 'deb');
    assert.ok(debs.length >= 1, 'a binary package');
    assert.ok(
      (end.artifacts ?? []).some((a) => a.name.endsWith('.dsc')),
      'a source package',
    );
    const dir = await repos.tempDir('downloaded');
    for (const artifact of end.artifacts ?? []) {
      const bytes = await store.get(artifact.key);
      assert.equal(bytes.length, artifact.size);
      assert.equal(
        createHash('sha256').update(bytes).digest('hex'),
        artifact.sha256,
        `${artifact.name} byte-identical`,
      );
      await writeFile(join(dir, artifact.name), bytes);
    }
    // Install and run it in a fresh container of the dist (apt resolves its runtime dependencies).
    const deb = debs.find((a) => a.name.startsWith('hello-deb_'))?.name ?? '';
    assert.ok(deb, 'the hello-deb binary package (besides its -dbgsym)');
    const run = await runCommand(
      'podman',
      [
        'run',
        '--rm',
        '-v',
        `${dir}:/pkgs:ro`,
        await baseImage(),
        'sh',
        '-c',
        `apt-get update -qq >/dev/null && apt-get install -y -qq /pkgs/${deb} >/dev/null && hello-deb --version`,
      ],
      {
        timeoutMs: 300_000,
        env: { CONTAINERS_CONF: fileURLToPath(new URL('../../infra/podman/containers.conf', import.meta.url)) },
      },
    );
    assert.match(run.stdout, /hello-deb/);
  });

  it('reuses the cached buildroot for the second build of the same package', async (t) => {
    const first = events.find((e) => e.project === 'projects/demo/hello-deb' && e.state === 'succeeded');
    const r = request('projects/demo/hello-deb', 'bookworm', 'deb');
    await submit(r);
    const end = await ended(r.buildId);
    assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
    const log = (await store.get(end.logKey ?? '')).toString('utf8');
    assert.match(log, /base reused, deps reused/);
    t.diagnostic(`buildroot cold ${first?.durations?.buildroot} ms, warm ${end.durations?.buildroot} ms`);
    assert.ok((end.durations?.buildroot ?? Infinity) < 15_000, 'warm buildroot in seconds');
  });

  it('builds the rpm example: rpm -qip shows the spec name and version', async () => {
    const r = request('projects/demo/hello-rpm', 'rpm-bookworm', 'rpm');
    await submit(r);
    const end = await ended(r.buildId);
    assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
    const rpm = (end.artifacts ?? []).find((a) => a.kind === 'rpm');
    assert.ok(rpm, 'a binary rpm');
    assert.ok(
      (end.artifacts ?? []).some((a) => a.kind === 'srpm'),
      'a source rpm',
    );
    const dir = await repos.tempDir('rpm');
    await writeFile(join(dir, rpm.name), await store.get(rpm.key));
    const info = await runCommand('rpm', ['-qip', join(dir, rpm.name)]);
    assert.match(info.stdout, /^Name\s*:\s*hello-rpm$/m);
    assert.match(info.stdout, /^Version\s*:\s*1\.0$/m);
  });

  it('ends a package that does not compile failed, with its log stored and streamed', async () => {
    const r = request('projects/test/fails-compile', 'bookworm', 'deb');
    await submit(r);
    const end = await ended(r.buildId);
    assert.equal(end.state, 'failed');
    assert.equal(end.error?.code, 'build-failed');
    assert.equal(end.error.retriable, false, 'a package that does not build is not dispatched again');
    const stored = (await store.get(end.logKey ?? '')).toString('utf8');
    assert.match(stored, /undefined_symbol/);
    await waitFor(() => logs.some((c) => c.buildId === r.buildId && c.final === true), 'the final log chunk');
    const streamed = logs
      .filter((c) => c.buildId === r.buildId)
      .sort((a, b) => a.seq - b.seq)
      .flatMap((c) => c.lines)
      .join('\n');
    assert.match(streamed, /undefined_symbol/);
  });

  it('with one slot, builds three requests one after another', async () => {
    const requests = [1, 2, 3].map(() => request('projects/test/quick', 'bookworm', 'deb'));
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, runner.running().length)), 20);
    try {
      for (const r of requests) await submit(r);
      for (const r of requests) assert.equal((await ended(r.buildId)).state, 'succeeded');
    } finally {
      clearInterval(sampler);
    }
    assert.equal(most, 1, 'never two builds at once');
    const spans = requests
      .map((r) => {
        const mine = events.filter((e) => e.buildId === r.buildId);
        return {
          from: Date.parse(mine.find((e) => e.state === 'claimed')?.at ?? ''),
          to: Date.parse(mine.find((e) => e.state === 'succeeded')?.at ?? ''),
        };
      })
      .sort((a, b) => a.from - b.from);
    for (let i = 1; i < spans.length; i++) {
      assert.ok((spans[i]?.from ?? 0) >= (spans[i - 1]?.to ?? Infinity), 'a claim only after the previous build ended');
    }
  });

  it('cancels a running build within 5 s and frees the slot', async (t) => {
    const r = request('projects/test/slow', 'bookworm', 'deb');
    await submit(r);
    await waitFor(
      () => events.some((e) => e.buildId === r.buildId && e.state === 'building'),
      'the slow build to run',
      600_000,
      100,
    );
    const asked = Date.now();
    await cluster.cancel(r.buildId);
    const end = await ended(r.buildId, 30_000);
    const took = Date.now() - asked;
    t.diagnostic(`cancelled after ${took} ms`);
    assert.equal(end.state, 'cancelled');
    assert.ok(took < 5000, `cancelled within 5 s (took ${took} ms)`);
    assert.ok(end.logKey && (await store.exists(end.logKey)), 'the log so far is stored');
    const next = request('projects/test/quick', 'bookworm', 'deb');
    await submit(next);
    assert.equal((await ended(next.buildId)).state, 'succeeded', 'the slot is free again');
  });

  it('fails a missing commit, a missing package directory and invalid metadata clearly, and goes on', async () => {
    const missingCommit = request('projects/test/quick', 'bookworm', 'deb', 'f'.repeat(40));
    const missingDir = request('projects/test/does-not-exist', 'bookworm', 'deb');
    const invalid = request('projects/test/invalid-meta', 'bookworm', 'deb');
    const good = request('projects/test/quick', 'bookworm', 'deb');
    for (const r of [missingCommit, missingDir, invalid, good]) await submit(r);

    const a = await ended(missingCommit.buildId);
    assert.equal(a.state, 'failed');
    assert.equal(a.error?.code, 'source-commit-missing');
    assert.match(a.error?.message ?? '', /f{40}/);
    const b = await ended(missingDir.buildId);
    assert.equal(b.error?.code, 'source-path-missing');
    assert.match(b.error?.message ?? '', /projects\/test\/does-not-exist/);
    const c = await ended(invalid.buildId);
    assert.equal(c.error?.code, 'metadata-invalid');
    assert.match(c.error?.message ?? '', /projects\/test\/invalid-meta\/buildfleet\.yml/);
    assert.match(c.error?.message ?? '', /targets\[0\]\.arch/);
    assert.equal((await ended(good.buildId)).state, 'succeeded');
  });

  it('gives the build step no network', async () => {
    const r = request('projects/test/wants-network', 'bookworm', 'deb');
    await submit(r);
    const end = await ended(r.buildId);
    assert.equal(end.state, 'failed');
    assert.equal(end.error?.code, 'build-failed');
    const log = (await store.get(end.logKey ?? '')).toString('utf8');
    assert.doesNotMatch(log, /^NETWORK-REACHABLE$/m);
    assert.match(log, /Network is unreachable|No route to host|Connection refused/);
  });
});

/** The bookworm base image the container buildroot made (the newest one). */
async function baseImage(): Promise<string> {
  const { stdout } = await runCommand(
    'podman',
    ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=*base-bookworm*'],
    {
      env: { CONTAINERS_CONF: fileURLToPath(new URL('../../infra/podman/containers.conf', import.meta.url)) },
    },
  );
  const image = stdout.split('\n').find((l) => l.trim() !== '');
  assert.ok(image, 'a base-bookworm image exists');
  return image;
}
