/**
 * Runner overhead: the same package (examples hello-deb) built
 *   (a) by dpkg-buildpackage directly in the warm container buildroot, and
 *   (b) through the runner, from the build.request produced to Kafka to the `succeeded` event
 *       (checkout, buildroot lookup, build, upload to S3, events),
 * in one run, on real Kafka, s3proxy and Podman. Prints both and the ratio.
 *
 *   node --import tsx test/bench/runner-overhead.ts [rounds=3]
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { decoderFor, topicNames, type BuildEvent } from '../../shared/messages/index.ts';
import { createSourceMirror, loadDist, loadPackage } from '../../shared/sources/index.ts';
import { createS3ArtifactStore } from '../../shared/storage/index.ts';
import { chooseBuildroot } from '../../runner/buildroot/index.ts';
import { builderFor } from '../../runner/builders/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { createRunner } from '../../runner/runner.ts';
import { startTestBroker } from '../harness/kafka.ts';
import { startTestPodman } from '../harness/podman.ts';
import { startTestS3 } from '../harness/s3.ts';
import { testGitRepos } from '../harness/git.ts';
import { exampleSourcesRepo, testRequest, testTopics } from '../harness/cluster-fixtures.ts';
import { buildrootDist } from '../../runner/buildroot/index.ts';
import { waitFor } from '../harness/wait.ts';

const rounds = Number(process.argv[2] ?? 3);
const logger = pino({ level: 'silent' });
const project = 'projects/demo/hello-deb';
const target = { dist: 'bookworm', arch: 'x86_64' };

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const [broker, s3, podman] = await Promise.all([startTestBroker(), startTestS3(), startTestPodman()]);
const repos = await testGitRepos('buildfleet-bench-');
try {
  const repo = await exampleSourcesRepo(repos);
  const commit = await repo.commit('bench sources');
  const work = await mkdtemp(join(tmpdir(), 'buildfleet-bench-work-'));
  await mkdir(join(work, 'work'), { recursive: true });

  const prefix = `bench${randomUUID().slice(0, 6)}`;
  const topics = topicNames(prefix);
  const bus = createKafkaBus({
    brokers: broker.brokers,
    clientId: 'bench',
    topicPrefix: prefix,
    logger,
    heartbeatIntervalMs: 500,
  });
  await bus.ensureTopics(testTopics(prefix));
  const bucket = `bench-${randomUUID().slice(0, 8)}`;
  const store = await createS3ArtifactStore({
    bucket,
    createBucket: true,
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const buildroot = await chooseBuildroot({
    preferred: 'container',
    engine: createDockerodeEngine({ socketPath: podman.socketPath }),
    cacheDir: join(work, 'cache'),
    logger,
  });
  const events: BuildEvent[] = [];
  const watch = await bus.subscribe<BuildEvent>({
    name: 'bench',
    topics: [topics.events],
    decode: decoderFor('build.event'),
    handle: async (r) => void events.push(r.value),
  });
  await watch.ready;
  const runner = createRunner({
    runnerId: 'bench-runner',
    group: 'default',
    arches: ['x86_64'],
    slots: 1,
    heartbeatMs: 5000,
    graceMs: 5000,
    bus,
    logger,
    job: {
      sources: createSourceMirror({ cacheDir: join(work, 'git'), logger }),
      store,
      buildroot,
      builderFor,
      workDir: join(work, 'work'),
      limits: { memoryMb: 4096, pids: 4096, timeoutMinutes: 30 },
    },
  });
  await runner.start();

  async function throughRunner(): Promise<number> {
    const request = testRequest({ project, dist: target.dist, kind: 'deb', url: repo.url, commit });
    const started = performance.now();
    await bus.publish(topics.requests('default', 'x86_64'), { key: request.buildKey, value: request });
    await waitFor(
      () => events.some((e) => e.buildId === request.buildId && e.state === 'succeeded'),
      'succeeded',
      600_000,
      5,
    );
    return performance.now() - started;
  }

  // Warm-up: makes the images, fills the git mirror, joins the groups.
  await throughRunner();

  const pkg = await loadPackage({ repoDir: repo.dir, packageDir: project });
  const dist = await loadDist({ repoDir: repo.dir, name: 'bookworm' });
  const prepared = await buildroot.prepare({
    dist: buildrootDist(dist),
    buildDeps: await builderFor('deb').buildDeps(pkg, target),
  });
  async function direct(): Promise<number> {
    const out = await mkdtemp(join(work, 'out-'));
    const started = performance.now();
    const result = await prepared.run({
      cmd: [
        'sh',
        '-c',
        'set -e; cp -a "$BUILDFLEET_SRC" "$HOME/hello-deb" && cd "$HOME/hello-deb" && dpkg-buildpackage -us -uc -rfakeroot >/dev/null 2>&1',
      ],
      workdir: pkg.dir,
      outDir: out,
    });
    const took = performance.now() - started;
    if (result.exitCode !== 0) throw new Error(`direct dpkg-buildpackage failed: ${result.exitCode}`);
    return took;
  }

  const directTimes: number[] = [];
  const runnerTimes: number[] = [];
  for (let i = 0; i < rounds; i++) {
    directTimes.push(await direct());
    runnerTimes.push(await throughRunner());
  }
  const a = median(directTimes);
  const b = median(runnerTimes);
  console.log(`runner-overhead: hello-deb, ${rounds} rounds, medians`);
  console.log(
    `  (a) dpkg-buildpackage in the warm container buildroot: ${a.toFixed(0)} ms  [${directTimes.map((t) => t.toFixed(0)).join(', ')}]`,
  );
  console.log(
    `  (b) through the runner, request -> succeeded:          ${b.toFixed(0)} ms  [${runnerTimes.map((t) => t.toFixed(0)).join(', ')}]`,
  );
  console.log(`  ratio b/a: ${(b / a).toFixed(2)}   overhead b-a: ${(b - a).toFixed(0)} ms`);
  const last = events.filter((e) => e.state === 'succeeded').at(-1);
  console.log(`  last runner build phases (ms): ${JSON.stringify(last?.durations)}`);

  await prepared.release();
  await runner.stop();
  await watch.close();
  await bus.close();
  await store.deletePrefix('builds/');
  await store.close();
  await rm(work, { recursive: true, force: true });
} finally {
  await repos.cleanup();
  await Promise.allSettled([broker.cleanup(), s3.stop(), podman.stop()]);
}
