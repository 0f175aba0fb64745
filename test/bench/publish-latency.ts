/**
 * Publish latency: for repositories already holding N packages, the time from a `succeeded`
 * event of one more package to its `published` event, and to `apt-get update` seeing it.
 * Real Kafka, the filesystem store (the one-machine default), real apt-get.
 *
 *   node --import tsx test/bench/publish-latency.ts [sizes=10,1000,5000]
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../shared/exec/index.ts';
import type { Artifact, BuildEvent } from '../../shared/messages/index.ts';
import { testEvent } from '../fixtures/messages.ts';
import { storedArtifact } from '../harness/cluster-fixtures.ts';
import { startTestCluster } from '../harness/cluster.ts';
import { startTestBroker } from '../harness/kafka.ts';
import { PrivateAptClient } from '../harness/package-clients.ts';
import { waitFor } from '../harness/wait.ts';

const sizes = (process.argv[2] ?? '10,1000,5000').split(',').map(Number);
const broker = await startTestBroker();
const cluster = await startTestCluster({ brokers: broker.brokers, name: 'bench-publish' });
const { work, store } = cluster;

/** A tiny arch-all .deb named `name` (dpkg-deb -b of a one-file tree). */
async function makeDeb(name: string, version: string): Promise<string> {
  const tree = join(work, 'trees', `${name}-${version}`);
  await mkdir(join(tree, 'DEBIAN'), { recursive: true });
  await mkdir(join(tree, 'usr/share', name), { recursive: true });
  await writeFile(join(tree, 'usr/share', name, 'version'), `${version}\n`);
  await writeFile(
    join(tree, 'DEBIAN/control'),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: bench <b@buildfleet.invalid>\nDescription: bench\n`,
  );
  const deb = join(work, 'debs', `${name}_${version}_all.deb`);
  await runCommand('dpkg-deb', ['--build', '-Zgzip', '-z1', tree, deb]);
  await rm(tree, { recursive: true, force: true });
  return deb;
}

try {
  await mkdir(join(work, 'debs'), { recursive: true });
  const repos = await cluster.serveRepos();
  await cluster.startCollector({ instanceId: 'bench', publicUrl: repos, keepVersions: 3, coalesceMs: 0 });

  async function succeed(project: string, debs: string[]): Promise<BuildEvent> {
    const buildId = randomUUID();
    const artifacts: Artifact[] = [];
    for (const deb of debs) {
      const file = { name: deb.split('/').at(-1) ?? '', bytes: await readFile(deb), kind: 'deb' as const };
      artifacts.push(await storedArtifact(store, buildId, file));
    }
    const event = testEvent(project, 'succeeded', {
      buildId,
      source: { service: 'runner', instance: 'bench' },
      artifacts,
    });
    await cluster.bus.publish(cluster.topics.events, { key: event.repoKey, value: event });
    return event;
  }
  const published = (id: string): BuildEvent | undefined =>
    cluster.events.find((e) => e.buildId === id && e.state === 'published');

  console.log('publish-latency: one package added to an apt repository of N packages (fs store, Kafka, apt-get)');
  for (const size of sizes) {
    const project = `projects/bench${size}/pkg`;
    const seedDebs = [];
    for (let i = 0; i < size; i += 16) {
      seedDebs.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(16, size - i) }, (_, j) => makeDeb(`b${size}-p${i + j}`, '1.0')),
        )),
      );
    }
    // Seeded as builds of at most 500 packages each: one event must stay under Kafka's message size limit.
    const seedStarted = performance.now();
    const seeds: BuildEvent[] = [];
    for (let i = 0; i < seedDebs.length; i += 500) seeds.push(await succeed(project, seedDebs.slice(i, i + 500)));
    await waitFor(
      () => seeds.every((seed) => published(seed.buildId) !== undefined),
      'the seed publish',
      1_800_000,
      20,
    );
    const seedMs = performance.now() - seedStarted;
    const url = published(seeds[0]?.buildId ?? '')?.repo?.url ?? '';
    const keyFile = join(work, `key-${size}.asc`);
    await writeFile(keyFile, await (await fetch(`${url}/key.asc`)).text());
    const apt = await PrivateAptClient.create(
      await mkdtemp(join(work, 'apt-')),
      `deb [signed-by=${keyFile}] ${url} bookworm main\n`,
    );
    await apt.aptGet(['update']);

    const extra = await makeDeb(`b${size}-new`, '2.0');
    const started = performance.now();
    const one = await succeed(project, [extra]);
    await waitFor(() => published(one.buildId) !== undefined, 'the publish', 1_800_000, 5);
    const toPublished = performance.now() - started;
    for (;;) {
      const update = await apt.aptGet(['update']);
      if (update.exitCode !== 0) throw new Error(update.stderr);
      const policy = await apt.aptCache(['policy', `b${size}-new`]);
      if (/Candidate: 2\.0/.test(policy.stdout)) break;
    }
    const toApt = performance.now() - started;
    console.log(
      `  N=${String(size).padStart(5)}  succeeded->published ${toPublished.toFixed(0).padStart(6)} ms   ` +
        `succeeded->apt-get update sees it ${toApt.toFixed(0).padStart(6)} ms   (seed publish of N: ${seedMs.toFixed(0)} ms)`,
    );
  }
} finally {
  await cluster.stop();
  await broker.cleanup();
}
