/**
 * The kiwi kind end to end on real Kafka, the filesystem store and kiwi-ng on this host (as
 * root): the example description (examples/sources/projects/images/hello-kiwi, a tbz of Debian
 * bookworm from the Debian mirror) is built through a runner and published by the collector in
 * the signed images index; the image downloaded from the index URL imports into Podman (Docker
 * API) and a container of it runs `hello`. A description with an unknown package ends `failed`
 * with KIWI's reason; a cancelled build stops kiwi-ng and leaves no temp root, mount or process.
 * Two builds run side by side: the whole file takes about as long as one KIWI build (~1.5-3 min).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImagesIndex } from '../../collector/images/images-index.ts';
import { builderFor, mountPointsUnder } from '../../runner/builders/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import type { Runner } from '../../runner/runner.ts';
import type { BuildRequest } from '../../shared/messages/index.ts';
import { exampleSourcesRepo, testRequest } from '../harness/cluster-fixtures.ts';
import { startTestCluster, type TestCluster } from '../harness/cluster.ts';
import { END_STATES, fetchBytes, sha256 } from '../harness/events.ts';
import { useKafka } from '../harness/kafka.ts';
import { runInContainer, usePodman } from '../harness/podman.ts';
import { waitFor } from '../harness/wait.ts';

// Top level: the harness's after() hooks then belong to the file, not to a hook or a test.
const [{ brokers }, podman] = await Promise.all([useKafka(), usePodman()]);
const GOOD = 'projects/images/hello-kiwi';
const BROKEN = 'projects/images/broken-kiwi';
const REPO_KEY = 'projects/images/bookworm';
const UNKNOWN_PACKAGE = 'buildfleet-no-such-package';
const notRoot = process.getuid?.() !== 0;

describe('kiwi builds (real Kafka, fs store, kiwi-ng on the runner host, podman)', { timeout: 900_000 }, () => {
  const engine = createDockerodeEngine({ socketPath: podman.socketPath });
  let cluster: TestCluster | undefined;
  let repoUrl: string;
  let commit: string;
  let runner: Runner;
  let publicUrl: string;
  /** Where the kiwi builder makes its temp roots: empty whenever no kiwi build runs. */
  let kiwiTemp: string;
  let good: BuildRequest;
  let broken: BuildRequest;

  before(async () => {
    if (notRoot) return;
    cluster = await startTestCluster({ brokers, name: 'kiwi' });
    kiwiTemp = join(cluster.work, 'kiwi-temp');

    // The examples, plus the example description with one package apt does not know.
    const sources = await exampleSourcesRepo(cluster.repos);
    const description = await readFile(join(sources.dir, GOOD, 'config.xml'), 'utf8');
    const withUnknown = description.replace(
      '<package name="hello"/>',
      `<package name="hello"/>\n        <package name="${UNKNOWN_PACKAGE}"/>`,
    );
    assert.notEqual(withUnknown, description, 'the example lists the package hello');
    await sources.write({
      [`${BROKEN}/config.xml`]: withUnknown,
      [`${BROKEN}/buildfleet.yml`]: 'targets: [{ dist: bookworm, arch: x86_64 }]\n',
    });
    commit = await sources.commit('example sources and a broken description');
    repoUrl = sources.url;
    publicUrl = await cluster.serveRepos();
    runner = await cluster.startRunner({
      id: 'kiwi-runner',
      builderFor: (kind) => builderFor(kind, { kiwi: { tempDir: kiwiTemp, allowHostBuilds: true } }),
      limit: 4096,
    });
    await cluster.startCollector({ publicUrl, keepVersions: 1 });

    // Both builds at once: the runner has two slots, and the file takes as long as one build.
    good = request(GOOD);
    broken = request(BROKEN);
    await submit(good);
    await submit(broken);
  });

  after(() => cluster?.stop());

  /** The cluster, started unless the tests are skipped. */
  const running = (): TestCluster => {
    assert.ok(cluster, 'the cluster is started');
    return cluster;
  };

  function request(project: string): BuildRequest {
    return testRequest({ project, dist: 'bookworm', kind: 'kiwi', url: repoUrl, commit });
  }

  const submit = (r: BuildRequest) => running().request(r);
  const reached = (buildId: string, states: ReadonlySet<string>, timeoutMs: number) =>
    running().reached(buildId, states, timeoutMs, 200);

  /** Imports an xz-compressed root file system tarball as an image (Docker API image import). */
  async function importXzTarball(file: string, tag: string): Promise<void> {
    const xz = spawn('xz', ['-dc', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => xz.once('close', resolve));
    await engine.importImage({ tar: xz.stdout, tag, signal: AbortSignal.timeout(120_000) });
    assert.equal(await exited, 0, 'xz -dc exits with 0');
  }

  it(
    'builds the example description, publishes the image in the index, and the image runs in podman',
    {
      skip: notRoot && 'kiwi-ng needs root',
    },
    async (t) => {
      const end = await reached(good.buildId, END_STATES, 600_000);
      assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
      t.diagnostic(`durations ${JSON.stringify(end.durations)}`);
      const base = `hello-kiwi.x86_64-1.0.0-${commit.slice(0, 12)}`;
      const image = `${base}.tar.xz`;
      assert.deepEqual(
        end.artifacts?.map((a) => [a.name, a.kind]),
        [
          [`${base}.changes.xz`, 'other'],
          [`${base}.packages`, 'other'],
          [image, 'image'],
          [`${image}.sha256`, 'other'],
          [`${base}.verified`, 'other'],
        ],
      );
      const imageArtifact = end.artifacts?.find((a) => a.kind === 'image');
      assert.ok(imageArtifact);
      const checksum = (
        await running().store.get(end.artifacts?.find((a) => a.name === `${image}.sha256`)?.key ?? '')
      ).toString();
      assert.equal(checksum.trim(), `${imageArtifact.sha256}  ${image}`, "KIWI's checksum file agrees with the event");
      const packages = (
        await running().store.get(end.artifacts?.find((a) => a.name === `${base}.packages`)?.key ?? '')
      ).toString();
      assert.match(packages, /^hello\|/m, '.packages lists the package hello');
      const log = (await running().store.get(end.logKey ?? '')).toString('utf8');
      assert.match(log, /Creating XZ compressed tar archive/, 'the log has kiwi-ng output');
      assert.doesNotMatch(log, /\r/, 'progress bars are shown as their last state');
      assert.deepEqual(await readdir(kiwiTemp), [], 'the temp root is removed');

      const published = await reached(good.buildId, new Set(['published']), 60_000);
      const imagesUrl = `${publicUrl}/${REPO_KEY}/images`;
      assert.equal(published.repo?.url, imagesUrl);
      const index = JSON.parse((await fetchBytes(`${imagesUrl}/index.json`)).toString('utf8')) as ImagesIndex;
      const items = index.items.filter((i) => i.buildId === good.buildId);
      assert.deepEqual(
        items.map((i) => [i.kind, i.name, i.size, i.sha256]),
        [['image', image, imageArtifact.size, imageArtifact.sha256]],
        'the index lists the image (not its side files) with size and sha256',
      );
      const url = items[0]?.url;
      assert.equal(url, `${imagesUrl}/files/${good.buildId}/${image}`);
      const bytes = await fetchBytes(url);
      assert.equal(sha256(bytes), imageArtifact.sha256, 'the index URL serves the image');

      const file = join(await running().repos.tempDir('image'), image);
      await writeFile(file, bytes);
      const tag = `localhost/buildfleet-kiwi-test:${good.buildId.slice(0, 8)}`;
      await importXzTarball(file, tag);
      t.after(() => engine.removeImage(tag));
      const run = await runInContainer(engine, tag, ['/usr/bin/hello']);
      assert.equal(run.exitCode, 0, run.output.join('\n'));
      assert.deepEqual(run.output, ['Hello, world!']);
    },
  );

  it(
    "ends a description with an unknown package failed, with KIWI's reason",
    {
      skip: notRoot && 'kiwi-ng needs root',
    },
    async () => {
      const end = await reached(broken.buildId, END_STATES, 600_000);
      assert.equal(end.state, 'failed');
      assert.equal(end.error?.code, 'build-failed');
      assert.match(
        end.error?.message ?? '',
        /^kiwi-ng system build failed with exit code 1 \(projects\/images\/broken-kiwi\)/,
      );
      assert.match(
        end.error?.message ?? '',
        new RegExp(`KiwiInstallPhaseFailed: .*Unable to locate package ${UNKNOWN_PACKAGE}`),
      );
      assert.ok(end.logKey && (await running().store.exists(end.logKey)), 'the log is stored');
      await waitFor(() => runner.running().length === 0, 'both builds to leave the runner', 600_000, 200);
      assert.deepEqual(await readdir(kiwiTemp), [], 'the temp roots are removed');
    },
  );

  it(
    'cancels a running kiwi build: kiwi-ng stops, its temp root, mounts and processes are gone',
    {
      skip: notRoot && 'kiwi-ng needs root',
    },
    async (t) => {
      const r = request(GOOD);
      await submit(r);
      // kiwi-ng is bootstrapping once its image root exists (the file system mounts come with it).
      const imageRoot = async () => {
        const roots = await readdir(kiwiTemp).catch((): string[] => []);
        const [root] = roots;
        if (root === undefined) return undefined;
        const entries = await readdir(join(kiwiTemp, root, 'target', 'build')).catch((): string[] => []);
        return entries.includes('image-root') ? join(kiwiTemp, root) : undefined;
      };
      let root: string | undefined;
      await waitFor(
        async () => (root = await imageRoot()) !== undefined,
        'kiwi-ng to start its image root',
        120_000,
        100,
      );
      const asked = Date.now();
      await running().cancel(r.buildId);
      const end = await reached(r.buildId, END_STATES, 60_000);
      const took = Date.now() - asked;
      t.diagnostic(`cancelled after ${took} ms`);
      assert.equal(end.state, 'cancelled');
      assert.ok(took < 5000, `cancelled at once (took ${took} ms)`);
      await waitFor(() => runner.running().length === 0, 'the slot to be free', 30_000, 100);
      assert.deepEqual(await readdir(kiwiTemp), [], 'the temp root is removed');
      assert.deepEqual(mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), root ?? kiwiTemp), []);
      assert.deepEqual(await processesMentioning(root ?? kiwiTemp), [], 'no process of the build is left');
    },
  );
});

/** Pids whose command line names `path` (kiwi-ng, debootstrap and apt all get the root's paths). */
async function processesMentioning(path: string): Promise<string[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const found: string[] = [];
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(path)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}
