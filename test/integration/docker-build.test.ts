/**
 * The docker kind end to end: a runner and a collector on real Kafka build the example
 * projects/images/hello-docker through Podman's Docker API, push it to a local registry
 * (Debian's docker-registry, plain HTTP, htpasswd credentials), and publish its reference and
 * digest in the repository's image index. The image is pulled back by digest through the Docker
 * API of another Podman service and runs. A Dockerfile whose RUN step fails ends `failed` with
 * that step's error.
 *
 * The runner's Podman has no registries.conf for the registry: the push reaches it over plain
 * HTTP only because runner.docker.insecure is set. The pulling Podman marks it insecure in its
 * registries.conf (a pull has no such per-call switch).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import type { ImagesIndex } from '../../collector/images/images-index.ts';
import { builderFor, DOCKER_RECORD_FILE, dockerRegistryFrom } from '../../runner/builders/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { readProgress } from '../../runner/engine/progress.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRequest } from '../../shared/messages/index.ts';
import { listRepositories } from '../../shared/repos/catalog.ts';
import { exampleSourcesRepo, testRequest } from '../harness/cluster-fixtures.ts';
import { startTestCluster, type TestCluster } from '../harness/cluster.ts';
import { END_STATES } from '../harness/events.ts';
import { useKafka } from '../harness/kafka.ts';
import { runInContainer, usePodman } from '../harness/podman.ts';
import { useRegistry } from '../harness/registry.ts';
import { waitFor } from '../harness/wait.ts';

// Top level: the harness's after() hooks then belong to the file, not to a hook or a test.
const [{ brokers }, registry] = await Promise.all([useKafka(), useRegistry()]);
const [runnerPodman, pullPodman] = await Promise.all([
  usePodman(),
  usePodman({ insecureRegistries: [registry.address] }),
]);
const HELLO = 'projects/images/hello-docker';
const FAILING = 'projects/test/docker-fails';
const SLOW = 'projects/test/docker-slow';
const SLOW_MARKER = `slow-step-${randomUUID()}`;
/** Credentials reach the runner through these variables, as in production (runner.docker.*Env). */
const CREDENTIAL_ENV = { usernameEnv: 'TEST_REGISTRY_USERNAME', passwordEnv: 'TEST_REGISTRY_PASSWORD' };

describe('docker builds (real Kafka, podman, local registry)', { timeout: 900_000 }, () => {
  const runnerEngine = createDockerodeEngine({ socketPath: runnerPodman.socketPath });
  const pullEngine = createDockerodeEngine({ socketPath: pullPodman.socketPath });
  const auth = { username: registry.username, password: registry.password, serveraddress: registry.address };
  let cluster: TestCluster;
  let repoUrl: string;
  let commit: string;
  let publicUrl: string;

  before(async () => {
    cluster = await startTestCluster({ brokers, name: 'docker', logs: true });
    const sources = await exampleSourcesRepo(cluster.repos);
    await sources.write({
      [`${FAILING}/buildfleet.yml`]: 'kind: docker\ntargets: [{ dist: bookworm, arch: x86_64 }]\n',
      [`${FAILING}/Dockerfile`]: [
        'ARG BUILDFLEET_BASE_IMAGE',
        'FROM ${BUILDFLEET_BASE_IMAGE}',
        'RUN echo "step one is fine"',
        'RUN echo "cannot frobnicate the widget" >&2 && exit 3',
        '',
      ].join('\n'),
      [`${SLOW}/buildfleet.yml`]: 'kind: docker\ntargets: [{ dist: bookworm, arch: x86_64 }]\n',
      // The marker makes the RUN step's process findable on this host (see the cancel test).
      [`${SLOW}/Dockerfile`]: `ARG BUILDFLEET_BASE_IMAGE\nFROM \${BUILDFLEET_BASE_IMAGE}\nRUN echo sleeping && sleep 10 && echo ${SLOW_MARKER}\n`,
    });
    commit = await sources.commit('example sources and test Dockerfiles');
    repoUrl = sources.url;
    publicUrl = await cluster.serveRepos();

    const dockerRegistry = dockerRegistryFrom(
      { registry: registry.address, insecure: true, ...CREDENTIAL_ENV },
      { TEST_REGISTRY_USERNAME: registry.username, TEST_REGISTRY_PASSWORD: registry.password },
    );
    const baseImages = join(cluster.work, 'base-images');
    await cluster.startRunner({
      id: 'docker-runner',
      // The docker builder prepares no buildroot (the host one is chosen); the engine is where it builds.
      builderFor: (kind) =>
        builderFor(kind, { docker: { engine: runnerEngine, registry: dockerRegistry, tmpDir: baseImages } }),
      limit: 2048,
    });
    await cluster.startCollector({ publicUrl });
  });

  after(() => cluster?.stop());

  function request(project: string): BuildRequest {
    return testRequest({ project, dist: 'bookworm', kind: 'docker', url: repoUrl, commit });
  }

  const submit = (r: BuildRequest) => cluster.request(r);
  const reached = (buildId: string, states: ReadonlySet<string>, timeoutMs: number) =>
    cluster.reached(buildId, states, timeoutMs, 100);
  const logLines = (buildId: string) => cluster.logs.filter((c) => c.buildId === buildId).flatMap((c) => c.lines);

  it('pushes the image with its digest in the event and the index, and it is pulled back by digest and runs', async (t) => {
    const r = request(HELLO);
    await submit(r);
    // A first run bootstraps the bookworm base image (mmdebstrap) before building.
    const end = await reached(r.buildId, END_STATES, 600_000);
    const log = end.logKey ? (await cluster.store.get(end.logKey)).toString('utf8') : '';
    assert.equal(end.state, 'succeeded', `${JSON.stringify(end.error)}\n${log.slice(-3000)}`);
    t.diagnostic(`durations: ${JSON.stringify(end.durations)}`);

    const repository = `${registry.address}/hello-docker`;
    const digest = await registry.manifestDigest('hello-docker', '1.0');
    assert.ok(digest?.startsWith('sha256:'), 'the registry has hello-docker:1.0');
    assert.equal(await registry.manifestDigest('hello-docker', commit), digest, 'the commit tag is the same image');
    assert.deepEqual(
      end.artifacts?.map((a) => [a.name, a.kind, `sha256:${a.sha256}`]),
      [
        [`${repository}:${commit}`, 'docker-image', digest],
        [`${repository}:1.0`, 'docker-image', digest],
      ],
    );
    const [artifact] = end.artifacts ?? [];
    assert.ok(artifact && artifact.size > 1_000_000, 'the size is the image size');
    const record = JSON.parse((await cluster.store.get(artifact.key)).toString('utf8')) as { pushed: unknown[] };
    assert.ok(artifact.key.endsWith(`/${DOCKER_RECORD_FILE}`));
    assert.equal(record.pushed.length, 2);
    assert.match(log, /docker: base image buildfleet\/base-bookworm:/);
    assert.match(log, new RegExp(`docker: pushed ${repository}:1\\.0@${digest}`));
    assert.doesNotMatch(log, new RegExp(registry.password), 'the password is not logged');
    assert.equal(await runnerEngine.inspectImage(`${repository}:1.0`), undefined, 'the local tags are removed');

    const published = await reached(r.buildId, new Set(['published', 'failed']), 60_000);
    assert.equal(published.state, 'published', JSON.stringify(published.error));
    const imagesUrl = `${publicUrl}/projects/images/bookworm/images`;
    assert.equal(published.repo?.url, imagesUrl);
    const index = (await (await fetch(`${imagesUrl}/index.json`)).json()) as ImagesIndex;
    const items = index.items.filter((i) => i.buildId === r.buildId);
    assert.deepEqual(
      items.map((i) => [i.kind, i.reference, i.digest, i.url]),
      [
        ['docker-image', `${repository}:${commit}`, digest, undefined],
        ['docker-image', `${repository}:1.0`, digest, undefined],
      ],
    );

    // `buildfleet repos` lists it like any repository.
    const listed = await listRepositories(cluster.store, publicUrl);
    assert.deepEqual(
      listed.filter((l) => l.key === 'projects/images/bookworm').map((l) => [l.format, l.url, l.version]),
      [['images', imagesUrl, index.version]],
    );

    // Pulled by digest through the Docker API of a Podman that never had the image, then run.
    const byDigest = `${repository}@${digest}`;
    const docker = new Docker({ socketPath: pullPodman.socketPath });
    const pulled = await readProgress(await docker.pull(byDigest, { authconfig: auth }), undefined);
    assert.equal(pulled.error, undefined, `pull ${byDigest}`);
    t.after(() => pullEngine.removeImage(byDigest));
    const run = await runInContainer(pullEngine, byDigest, ['/usr/local/bin/hello']);
    assert.equal(run.exitCode, 0, run.output.join('\n'));
    assert.match(run.output.join('\n'), /^hello from buildfleet on Debian 12/m);
  });

  it('ends a build whose RUN step fails `failed`, with that step and its output in the error', async () => {
    const r = request(FAILING);
    await submit(r);
    const end = await reached(r.buildId, END_STATES, 300_000);
    assert.equal(end.state, 'failed');
    assert.equal(end.error?.code, 'build-failed');
    const message = end.error?.message ?? '';
    assert.match(message, /RUN echo "cannot frobnicate the widget" >&2 && exit 3/, 'names the failing step');
    assert.match(message, /exit status 3/, "carries the engine's error");
    assert.match(message, /cannot frobnicate the widget/, "quotes the step's output");
    assert.equal(await registry.manifestDigest('docker-fails', commit), undefined, 'nothing was pushed');
  });

  it('cancels a running docker build at once', async (t) => {
    const r = request(SLOW);
    await submit(r);
    // The abort must stop a RUN step in progress, not a build about to start.
    await waitFor(() => logLines(r.buildId).includes('sleeping'), 'the RUN step to start', 120_000, 100);
    const asked = Date.now();
    await cluster.cancel(r.buildId);
    const end = await reached(r.buildId, END_STATES, 30_000);
    const took = Date.now() - asked;
    t.diagnostic(`cancelled after ${took} ms`);
    assert.equal(end.state, 'cancelled', JSON.stringify(end.error));
    assert.ok(took < 5000, `cancelled at once (took ${took} ms)`);
    // Podman runs an abandoned RUN step to its end (docs/builders.md) and then drops the build. The
    // test waits for that, so stopping its Podman service cannot leave the build's container behind.
    const stepRunning = async () =>
      (await runCommand('pgrep', ['-f', SLOW_MARKER], { okExitCodes: [0, 1] })).exitCode === 0;
    await waitFor(async () => !(await stepRunning()), 'the abandoned RUN step to end', 60_000, 250);
    assert.equal(await registry.manifestDigest('docker-slow', commit), undefined, 'nothing was pushed');
  });
});
