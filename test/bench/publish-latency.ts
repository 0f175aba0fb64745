/**
 * Publish latency: for repositories already holding N packages, the time from a `succeeded`
 * event of one more package to its `published` event, and to `apt-get update` seeing it.
 * Real Kafka, the filesystem store (the one-machine default), real apt-get.
 *
 *   node --import tsx test/bench/publish-latency.ts [sizes=10,1000,5000]
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createCollector } from '../../collector/collector.ts';
import { createSigner } from '../../collector/signing/index.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { runCommand } from '../../shared/exec/index.ts';
import {
  buildKeyOf,
  decoderFor,
  repoKeyOf,
  topicNames,
  type Artifact,
  type BuildEvent,
} from '../../shared/messages/index.ts';
import { createRepoRequestHandler } from '../../shared/repos/http.ts';
import { createFsArtifactStore } from '../../shared/storage/index.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { testSigningKey } from '../harness/gpg.ts';
import { startTestBroker } from '../harness/kafka.ts';
import { PrivateAptClient } from '../harness/package-clients.ts';
import { waitFor } from '../harness/wait.ts';

const sizes = (process.argv[2] ?? '10,1000,5000').split(',').map(Number);
const logger = pino({ level: 'silent' });
const broker = await startTestBroker();
const work = await mkdtemp(join(tmpdir(), 'buildfleet-bench-publish-'));

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
  const store = await createFsArtifactStore({ root: join(work, 'store') });
  const signer = await createSigner({ armoredPrivateKey: (await testSigningKey()).armoredPrivateKey, workDir: work });
  const prefix = `bp${randomUUID().slice(0, 6)}`;
  const topics = topicNames(prefix);
  const bus = createKafkaBus({ brokers: broker.brokers, clientId: 'bench', topicPrefix: prefix, logger });
  await bus.ensureTopics(testTopics(prefix));
  const events: BuildEvent[] = [];
  const watch = await bus.subscribe<BuildEvent>({
    name: 'bench',
    topics: [topics.events],
    decode: decoderFor('build.event'),
    handle: async (r) => void events.push(r.value),
  });
  await watch.ready;
  const handle = createRepoRequestHandler(store);
  const server = createServer((req, res) => void handle(req, res).then((ok) => ok || res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const repos = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repos`;
  const collector = createCollector({
    instanceId: 'bench',
    bus,
    store,
    signer,
    logger,
    publicUrl: repos,
    workDir: join(work, 'collector'),
    keepVersions: 3,
    coalesceMs: 0,
  });
  await collector.start();

  async function succeed(project: string, debs: string[]): Promise<BuildEvent> {
    const buildId = randomUUID();
    const artifacts: Artifact[] = [];
    for (const deb of debs) {
      const bytes = await readFile(deb);
      const name = deb.split('/').at(-1) ?? '';
      const key = `builds/${buildId}/attempt-1/${name}`;
      await store.put(key, bytes);
      artifacts.push({
        name,
        kind: 'deb',
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        key,
      });
    }
    const target = { dist: 'bookworm', arch: 'x86_64' };
    const event: BuildEvent = {
      v: 1,
      type: 'build.event',
      buildId,
      attempt: 1,
      buildKey: buildKeyOf(project, target),
      project,
      target,
      repoKey: repoKeyOf(project, 'bookworm'),
      state: 'succeeded',
      at: new Date().toISOString(),
      source: { service: 'runner', instance: 'bench' },
      artifacts,
    };
    await bus.publish(topics.events, { key: event.repoKey, value: event });
    return event;
  }
  const published = (id: string): BuildEvent | undefined =>
    events.find((e) => e.buildId === id && e.state === 'published');

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
  await collector.stop();
  await watch.close();
  await bus.close();
  await new Promise((resolve) => server.close(resolve));
  await signer.close();
  await store.close();
} finally {
  await broker.cleanup();
  await rm(work, { recursive: true, force: true });
}
