/**
 * Image dists (`base.image`) in the container buildroot, against Podman's Docker API and a local
 * docker-registry on 127.0.0.1 (htpasswd credentials, plain HTTP marked insecure in this file's
 * own Podman service). The base image pushed there is the runner's own bookworm base (mmdebstrap,
 * cached across runs) with a label unique to this run, so its id is new: after its local tag is
 * removed the engine has no such image and the buildroot must pull it. hello-deb then builds on
 * it; a second prepare reuses both layers; a missing image, an image without apt-get and an
 * unreachable registry fail as docs/buildroots.md says.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { runCommand } from '../../shared/exec/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { loadDist, loadPackage } from '../../shared/sources/index.ts';
import { createContainerBuildroot, type BuildrootDist } from '../../runner/buildroot/index.ts';
import { ensureBaseLayer, basePulls } from '../../runner/buildroot/base-image.ts';
import { pulledBaseTag } from '../../runner/buildroot/base-pull-policy.ts';
import { builderFor } from '../../runner/builders/index.ts';
import { createFsArtifactStore } from '../../shared/storage/index.ts';
import { createDockerodeEngine, KeyedLock } from '../../runner/engine/index.ts';
import { uniqueName } from '../harness/names.ts';
import { usePodman } from '../harness/podman.ts';
import { useRegistry } from '../harness/registry.ts';
import { rejection } from '../harness/errors.ts';
import { workingTreeBuild } from '../harness/build-job.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/sources', import.meta.url));
/** Nothing listens on port 1: a registry that cannot be reached. */
const UNREACHABLE = '127.0.0.1:1';
const registry = await useRegistry();
const { socketPath } = await usePodman({ insecureRegistries: [registry.address, UNREACHABLE] });
const engine = createDockerodeEngine({ socketPath });
const logger = createLogger({ name: 'buildroot-base-image-test', level: 'silent' });
const auth = { username: registry.username, password: registry.password, serverAddress: registry.address };

describe('image dists in the container buildroot (podman, local registry)', { timeout: 20 * 60_000 }, () => {
  let dir: string;
  const run = uniqueName('bi');
  const baseRef = `${registry.address}/buildfleet-test/base-${run}:1`;
  const madeImages = new Set<string>();
  let pushedId: string | undefined;
  let bookwormPackages: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildroot-base-image-'));
    const bookworm = await loadDist({ repoDir: EXAMPLES, name: 'bookworm' });
    bookwormPackages = bookworm.packages;
    assert.equal(bookworm.base.kind, 'bootstrap');
    // The runner's own bookworm base (made once per machine) is the Debian image to start from.
    const made = await ensureBaseLayer({
      engine,
      lock: new KeyedLock(),
      tmpDir: join(dir, 'tmp'),
      dist: { name: 'bookworm', format: 'deb', base: bookworm.base },
      pulls: basePulls({}),
    });
    const context = join(dir, 'base-context');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), `FROM ${made.tag}\nLABEL org.buildfleet.test-run=${run}\n`);
    pushedId = (await engine.buildImage({ contextDir: context, tag: baseRef, network: 'none' })).id;
    await engine.pushImage({ reference: baseRef, auth, insecure: true });
    await engine.removeImage(baseRef);
    assert.equal(await engine.inspectImage(pushedId), undefined, 'the pushed image is gone from the engine');
  });
  after(async () => {
    for (const image of madeImages) await engine.removeImage(image);
    await engine.removeImage(baseRef);
    if (pushedId !== undefined) await engine.removeImage(pulledBaseTag(pushedId));
    await rm(dir, { recursive: true, force: true });
  });

  const buildrootWith = (registryAuths = [auth]) =>
    createContainerBuildroot({ engine, logger, tmpDir: join(dir, 'tmp'), registryAuths });
  /** The buildroot-failed error a prepare of `dist` ends with, retriable or not as expected. */
  async function prepareFailure(dist: BuildrootDist, retriable: boolean, registryAuths = [auth]) {
    const error = await rejection(buildrootWith(registryAuths).prepare({ dist }));
    assert.equal(error.code, 'buildroot-failed', error.message);
    assert.equal(error.retriable, retriable, error.message);
    return error;
  }

  const imageDist = (image: string): BuildrootDist => ({
    name: uniqueName('test-image'),
    format: 'deb',
    base: { kind: 'image', image },
    packages: bookwormPackages,
  });

  it('pulls the base image, builds hello-deb on it, and reuses both layers warm', async (t) => {
    const pkg = await loadPackage({ repoDir: EXAMPLES, packageDir: 'projects/demo/hello-deb' });
    const target = pkg.targets[0];
    assert.ok(target !== undefined);
    assert.ok(pkg.kind === 'deb' || pkg.kind === 'rpm', `${pkg.project} is a ${pkg.kind} package`);
    const builder = builderFor(pkg.kind);
    const buildDeps = await builder.buildDeps(pkg, target);
    const dist = imageDist(baseRef);
    const buildroot = buildrootWith();

    const lines: string[] = [];
    const cold = await buildroot.prepare({ dist, buildDeps, onLine: (line) => lines.push(line) });
    madeImages.add(cold.environment);
    const pulled = await engine.inspectImage(baseRef);
    assert.equal(pulled?.id, pushedId, 'the engine has the pulled image, the one pushed');
    assert.ok(lines.some((line) => line.includes(`pulling base image ${baseRef} (missing)`)));
    assert.equal(cold.report.base, 'made');
    assert.equal(cold.report.deps, 'made');
    await cold.release();

    const srcDir = join(dir, 'src');
    const outDir = join(dir, 'out');
    await cp(pkg.dir, srcDir, { recursive: true });
    await mkdir(outDir);
    const warm = await buildroot.prepare({ dist, buildDeps });
    try {
      assert.equal(warm.environment, cold.environment);
      assert.equal(warm.report.base, 'reused');
      assert.equal(warm.report.deps, 'reused');
      assert.ok(warm.report.totalMs < 2000, `warm prepare took ${warm.report.totalMs} ms`);
      await builder.build({
        pkg,
        buildroot: warm,
        srcDir,
        outDir,
        signal: new AbortController().signal,
        onLine: () => {},
      });
    } finally {
      await warm.release();
    }
    const deb = join(outDir, 'hello-deb_1.0_amd64.deb');
    const fields = (await runCommand('dpkg-deb', ['-f', deb, 'Package', 'Version'])).stdout;
    assert.equal(fields, 'Package: hello-deb\nVersion: 1.0\n');

    // A new buildroot (a restarted runner) checks the tag once: same id, so the layer stays.
    const restarted = buildrootWith();
    const refreshLines: string[] = [];
    const again = await restarted.prepare({ dist, buildDeps, onLine: (line) => refreshLines.push(line) });
    await again.release();
    assert.ok(refreshLines.some((line) => line.includes(`pulling base image ${baseRef} (refresh)`)));
    assert.equal(again.environment, cold.environment, 'an unchanged image keeps its dependency layer');
    t.diagnostic(
      `cold prepare ${cold.report.totalMs} ms (pull ${cold.report.baseMs} ms, deps ${cold.report.depsMs} ms); ` +
        `warm prepare ${warm.report.totalMs} ms; after a restart (tag re-pulled) ${again.report.totalMs} ms`,
    );
  });

  it("builds through the runner's build job from a dist file with base.image", async () => {
    const distName = uniqueName('test-image-job');
    const sourcesDir = join(dir, 'sources');
    const project = 'projects/demo/hello-deb';
    await cp(join(EXAMPLES, project), join(sourcesDir, project), { recursive: true });
    await writeFile(
      join(sourcesDir, project, 'buildfleet.yml'),
      `name: hello-deb\nkind: deb\ntargets:\n  - { dist: ${distName}, arch: x86_64 }\n`,
    );
    await mkdir(join(sourcesDir, 'dists'));
    await writeFile(
      join(sourcesDir, 'dists', `${distName}.yml`),
      `format: deb\nbase:\n  image: ${baseRef}\npackages: [${bookwormPackages.join(', ')}]\n`,
    );
    const store = await createFsArtifactStore({ root: join(dir, 'store') });
    try {
      const { outcome, log } = await workingTreeBuild({
        project,
        dist: distName,
        kind: 'deb',
        sourcesDir,
        store,
        buildroot: buildrootWith(),
        dir,
        logger,
      });
      assert.equal(outcome.state, 'succeeded', log.split('\n').slice(-15).join('\n'));
      assert.ok(outcome.state === 'succeeded' && outcome.artifacts.some((a) => a.name === 'hello-deb_1.0_amd64.deb'));
      assert.match(log, new RegExp(`pulling base image ${escape(baseRef)}`));
      for (const image of await builtImagesOf(distName)) madeImages.add(image);
    } finally {
      await store.close();
    }
  });

  it('fails naming the dist file, the field and the image when the image does not exist', async () => {
    const missing = `${registry.address}/buildfleet-test/no-such-${run}:1`;
    const dist = imageDist(missing);
    const error = await prepareFailure(dist, false);
    assert.match(
      error.message,
      new RegExp(`^dists/${dist.name}\\.yml: field "base\\.image": cannot pull ${escape(missing)}: .*manifest unknown`),
    );
  });

  it('fails clearly, not retriable, on an image without apt-get', async () => {
    const noApt = `${registry.address}/buildfleet-test/no-apt-${run}:1`;
    const context = join(dir, 'no-apt');
    await mkdir(context);
    await writeFile(join(context, 'hello.txt'), 'not a Debian system\n');
    await runCommand('tar', ['-C', context, '-cf', join(dir, 'no-apt.tar'), 'hello.txt']);
    await engine.importImage({ tar: createReadStream(join(dir, 'no-apt.tar')), tag: noApt });
    madeImages.add(noApt);
    await engine.pushImage({ reference: noApt, auth, insecure: true });
    await engine.removeImage(noApt);
    const dist = imageDist(noApt);
    const error = await prepareFailure(dist, false);
    assert.match(
      error.message,
      new RegExp(`^dists/${dist.name}\\.yml: field "base\\.image": the image ${escape(noApt)} has no usable apt-get`),
    );
    assert.notEqual(await engine.inspectImage(noApt), undefined, 'it was pulled before the check');
  });

  it('fails retriable when the registry cannot be reached, or without credentials not retriable', async () => {
    const unreachable = await prepareFailure(imageDist(`${UNREACHABLE}/buildfleet-test/x:1`), true, []);
    assert.match(unreachable.message, /cannot pull 127\.0\.0\.1:1\/buildfleet-test\/x:1: .*connection refused/);

    // The pushed base without credentials: refused, and not retried (also when the engine has a copy).
    const denied = await prepareFailure(imageDist(baseRef), false, []);
    assert.match(denied.message, /unauthorized/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Ids of the dependency images made for `dist` (removed after the tests). */
async function builtImagesOf(dist: string): Promise<string[]> {
  const images = await new Docker({ socketPath }).listImages({ filters: { label: [`org.buildfleet.dist=${dist}`] } });
  return images.map((image) => image.Id);
}
