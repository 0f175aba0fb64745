/**
 * Runner overhead: the same package (examples hello-deb) built
 *   (a) by dpkg-buildpackage directly in the warm container buildroot, and
 *   (b) through the runner, from the build.request produced to Kafka to the `succeeded` event
 *       (checkout, buildroot lookup, build, upload to S3, events),
 * in one run, on real Kafka, s3proxy and Podman. Prints both and the ratio.
 *
 *   node --import tsx test/bench/runner-overhead.ts [rounds=3]
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDist, loadPackage } from '../../shared/sources/index.ts';
import { buildrootDist, chooseBuildroot } from '../../runner/buildroot/index.ts';
import { builderFor } from '../../runner/builders/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { exampleSourcesRepo, testRequest } from '../harness/cluster-fixtures.ts';
import { startTestCluster } from '../harness/cluster.ts';
import { startTestBroker } from '../harness/kafka.ts';
import { startTestPodman } from '../harness/podman.ts';
import { startTestS3 } from '../harness/s3.ts';
import { waitFor } from '../harness/wait.ts';

const rounds = Number(process.argv[2] ?? 3);
const project = 'projects/demo/hello-deb';
const target = { dist: 'bookworm', arch: 'x86_64' };

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const [broker, s3, podman] = await Promise.all([startTestBroker(), startTestS3(), startTestPodman()]);
const cluster = await startTestCluster({ brokers: broker.brokers, name: 'bench', s3 });
const { events, logger, repos, work } = cluster;
try {
  const repo = await exampleSourcesRepo(repos);
  const commit = await repo.commit('bench sources');
  const buildroot = await chooseBuildroot({
    preferred: 'container',
    engine: createDockerodeEngine({ socketPath: podman.socketPath }),
    cacheDir: join(work, 'cache'),
    logger,
  });
  await cluster.startRunner({ id: 'bench-runner', slots: 1, heartbeatMs: 5000, graceMs: 5000, buildroot, limit: 4096 });

  async function throughRunner(): Promise<number> {
    const request = testRequest({ project, dist: target.dist, kind: 'deb', url: repo.url, commit });
    const started = performance.now();
    await cluster.request(request);
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
} finally {
  await cluster.stop();
  await Promise.allSettled([broker.cleanup(), s3.stop(), podman.stop()]);
}
