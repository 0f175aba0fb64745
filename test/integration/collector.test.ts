/**
 * The collector service end to end on real Kafka and s3proxy: `succeeded` events become signed
 * apt and rpm-md repositories that real apt-get and dnf accept, bursts are coalesced, and a
 * success whose artifact is missing is reported while the repository stays valid.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { runCommand } from '../../shared/exec/index.ts';
import type { Artifact, BuildEvent } from '../../shared/messages/index.ts';
import { storedArtifact } from '../harness/cluster-fixtures.ts';
import { startTestCluster, type TestCluster } from '../harness/cluster.ts';
import { testEvent } from '../fixtures/messages.ts';
import { useKafka } from '../harness/kafka.ts';
import { usePodman } from '../harness/podman.ts';
import { chooseBuildroot } from '../../runner/buildroot/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { buildrootDist } from '../../runner/buildroot/index.ts';
import { loadDist } from '../../shared/sources/index.ts';
import { buildNoarchRpm, dnfInstall, PrivateAptClient } from '../harness/package-clients.ts';
import { useS3 } from '../harness/s3.ts';
import { waitFor } from '../harness/wait.ts';

const [{ brokers }, s3, podman] = await Promise.all([useKafka(), useS3(), usePodman()]);
const examples = fileURLToPath(new URL('../../examples/sources', import.meta.url));
const containersConf = fileURLToPath(new URL('../../infra/podman/containers.conf', import.meta.url));
const helloDeb = fileURLToPath(new URL('../../examples/sources/projects/demo/hello-deb', import.meta.url));

describe('collector (real Kafka, S3, apt-get and dnf)', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let repos = '';
  let work = '';

  before(async () => {
    cluster = await startTestCluster({ brokers, name: 'collector', s3, partitions: 2 });
    work = cluster.work;
    repos = await cluster.serveRepos();
    await cluster.startCollector({ publicUrl: repos, keepVersions: 3, coalesceMs: 300 });
  });

  after(() => cluster?.stop());

  /** What a runner does: the files into the store, then a succeeded event. */
  async function succeeded(
    project: string,
    dist: string,
    files: string[],
    options: { skipUpload?: string } = {},
  ): Promise<BuildEvent> {
    const buildId = randomUUID();
    const artifacts: Artifact[] = [];
    for (const file of files) {
      const name = basename(file);
      const upload = name !== options.skipUpload;
      artifacts.push(await storedArtifact(cluster.store, buildId, { name, bytes: await readFile(file) }, { upload }));
    }
    const event = testEvent(project, 'succeeded', { buildId, target: { dist, arch: 'x86_64' }, artifacts });
    await cluster.bus.publish(cluster.topics.events, { key: event.repoKey, value: event });
    return event;
  }

  const endOf = (buildId: string): BuildEvent | undefined =>
    cluster.events.find(
      (e) =>
        e.buildId === buildId &&
        (e.state === 'published' || (e.state === 'failed' && e.source.service === 'collector')),
    );

  async function settled(buildId: string): Promise<BuildEvent> {
    await waitFor(() => endOf(buildId) !== undefined, `build ${buildId} to be published`, 120_000, 50);
    return endOf(buildId) as BuildEvent;
  }

  it('publishes a deb build as a signed apt repository that apt-get installs from', async () => {
    const dir = await mkdtemp(join(work, 'deb-'));
    await runCommand('cp', ['-a', helloDeb, join(dir, 'hello-deb')]);
    await runCommand('dpkg-buildpackage', ['-us', '-uc'], { cwd: join(dir, 'hello-deb'), timeoutMs: 300_000 });
    const built = (await runCommand('sh', ['-c', `ls ${dir}/*.deb ${dir}/*.dsc ${dir}/*.tar.*`])).stdout
      .trim()
      .split('\n');
    const event = await succeeded('projects/demo/hello-deb', 'bookworm', built);
    const published = await settled(event.buildId);
    assert.equal(published.state, 'published');
    assert.equal(published.repo?.url, `${repos}/projects/demo/bookworm/apt`);

    const key = join(work, 'apt-key.asc');
    await writeFile(key, await (await fetch(`${published.repo?.url}/key.asc`)).text());
    const apt = await PrivateAptClient.create(
      await mkdtemp(join(work, 'apt-')),
      `deb [signed-by=${key}] ${published.repo?.url} bookworm main\n`,
    );
    const update = await apt.aptGet(['update']);
    assert.equal(update.exitCode, 0, update.stdout + update.stderr);
    const download = await apt.aptGet(['download', 'hello-deb']);
    assert.equal(download.exitCode, 0, download.stdout + download.stderr);
    const deb = (await runCommand('sh', ['-c', `ls ${apt.downloadDir}/hello-deb_*.deb`])).stdout.trim();
    const root = await mkdtemp(join(work, 'root-'));
    await runCommand('dpkg-deb', ['-x', deb, root]);
    assert.match((await runCommand(join(root, 'usr/bin/hello-deb'), ['--version'])).stdout, /hello-deb 1\.0/);

    // A real apt-get install, in a fresh bookworm container (host network, to reach 127.0.0.1).
    const buildroot = await chooseBuildroot({
      preferred: 'container',
      engine: createDockerodeEngine({ socketPath: podman.socketPath }),
      cacheDir: join(work, 'buildroots'),
      logger: cluster.logger,
    });
    const image = (
      await buildroot.prepare({ dist: buildrootDist(await loadDist({ repoDir: examples, name: 'bookworm' })) })
    ).environment;
    const install = await runCommand(
      'podman',
      [
        'run',
        '--rm',
        '--network',
        'host',
        '-v',
        `${key}:/etc/apt/keyrings/buildfleet.asc:ro`,
        image,
        'sh',
        '-c',
        `echo 'deb [signed-by=/etc/apt/keyrings/buildfleet.asc] ${published.repo?.url} bookworm main' > /etc/apt/sources.list.d/bf.list` +
          ' && apt-get update -qq && apt-get install -y -qq hello-deb >/dev/null && hello-deb --version',
      ],
      { timeoutMs: 300_000, env: { CONTAINERS_CONF: containersConf } },
    );
    assert.match(install.stdout, /hello-deb 1\.0/);
  });

  it('publishes rpm builds as a signed rpm-md repository that dnf installs from, coalescing a burst', async () => {
    const dir = await mkdtemp(join(work, 'rpm-'));
    const rpms = [];
    for (let i = 1; i <= 12; i++) rpms.push(await buildNoarchRpm(dir, `bf-burst-${i}`, '1.0'));
    const burst = [];
    for (const rpm of rpms) burst.push(await succeeded('projects/burst/pkg', 'rpm-bookworm', [rpm]));
    const ends = await Promise.all(burst.map((e) => settled(e.buildId)));
    assert.ok(
      ends.every((e) => e.state === 'published'),
      'all published',
    );
    const versions = new Set(ends.map((e) => e.repo?.version));
    assert.ok(versions.size < burst.length / 2, `a burst of ${burst.length} gave ${versions.size} publishes`);

    const url = ends[0]?.repo?.url ?? '';
    for (const name of ['bf-burst-1', 'bf-burst-12']) {
      const installed = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name });
      assert.equal(installed.exitCode, 0, installed.output);
      assert.equal(installed.installed, '1.0-1');
    }
  });

  it('puts 200 successes of one burst into one consistent repository', async (t) => {
    const dir = await mkdtemp(join(work, 'many-'));
    const names = Array.from({ length: 200 }, (_, i) => `bf-many-${i + 1}`);
    const rpms: string[] = [];
    for (let i = 0; i < names.length; i += 8) {
      rpms.push(...(await Promise.all(names.slice(i, i + 8).map((name) => buildNoarchRpm(dir, name, '1.0')))));
    }
    const started = Date.now();
    const burst = [];
    for (const rpm of rpms) burst.push(await succeeded('projects/many/pkg', 'rpm-bookworm', [rpm]));
    const ends = await Promise.all(burst.map((e) => settled(e.buildId)));
    assert.ok(ends.every((e) => e.state === 'published'));
    const versions = new Set(ends.map((e) => e.repo?.version));
    t.diagnostic(`200 successes -> ${versions.size} versions in ${Date.now() - started} ms`);
    assert.ok(versions.size <= 10, `few regenerations (${versions.size})`);

    const url = ends[0]?.repo?.url ?? '';
    const repomd = await (await fetch(`${url}/repodata/repomd.xml`)).text();
    const primary = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1];
    assert.ok(primary, 'repomd.xml names the primary metadata');
    const xml = gunzipSync(Buffer.from(await (await fetch(`${url}/${primary}`)).arrayBuffer())).toString('utf8');
    const listed = new Set([...xml.matchAll(/<name>(bf-many-\d+)<\/name>/g)].map((m) => m[1]));
    assert.equal(listed.size, 200, 'the live version lists all 200 packages');
    const installed = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name: 'bf-many-137' });
    assert.equal(installed.exitCode, 0, installed.output);
  });

  it('reports a success whose artifact is missing, keeps the repository valid and goes on', async () => {
    const dir = await mkdtemp(join(work, 'missing-'));
    const lost = await buildNoarchRpm(dir, 'bf-lost', '1.0');
    const kept = await buildNoarchRpm(dir, 'bf-kept', '2.0');
    const bad = await succeeded('projects/burst/pkg', 'rpm-bookworm', [lost], { skipUpload: basename(lost) });
    const failed = await settled(bad.buildId);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.code, 'artifact-missing');
    const good = await succeeded('projects/burst/pkg', 'rpm-bookworm', [kept]);
    const published = await settled(good.buildId);
    assert.equal(published.state, 'published');
    const url = published.repo?.url ?? '';
    const installed = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name: 'bf-kept' });
    assert.equal(installed.exitCode, 0, installed.output);
    const lostInstall = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name: 'bf-lost' });
    assert.notEqual(lostInstall.exitCode, 0, 'the lost package is not in the repository');
  });
});
