/**
 * The deb and rpm builders in the container buildroot (Podman's Docker API, the real Debian
 * mirror): the example packages build as the non-root build user (fakeroot for dpkg-buildpackage)
 * without network, with the build dependencies the builders name installed into the image.
 * The dist names are unique per run, so the dependency images are made (cold) and removed after;
 * the base image is keyed by the bootstrap settings only and stays cached across runs.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../shared/exec/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { loadDist, loadPackage } from '../../shared/sources/index.ts';
import { buildrootDist, chooseBuildroot } from '../../runner/buildroot/index.ts';
import { builderFor } from '../../runner/builders/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { uniqueName } from '../harness/names.ts';
import { usePodman } from '../harness/podman.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/sources', import.meta.url));
const { socketPath } = await usePodman();
const engine = createDockerodeEngine({ socketPath });
const logger = createLogger({ name: 'builders-container-test', level: 'silent' });

describe('deb and rpm builders (container buildroot)', { timeout: 20 * 60_000 }, () => {
  let dir: string;
  const madeImages = new Set<string>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'builders-container-'));
  });
  after(async () => {
    for (const image of madeImages) await engine.removeImage(image);
    await rm(dir, { recursive: true, force: true });
  });

  async function buildExample(packageDir: string): Promise<{ outDir: string; names: string[]; report: string }> {
    const pkg = await loadPackage({ repoDir: EXAMPLES, packageDir });
    const target = pkg.targets[0];
    assert.ok(target !== undefined);
    const dist = await loadDist({ repoDir: EXAMPLES, name: target.dist });
    assert.equal(dist.base.kind, 'bootstrap');
    const distOfTest = { ...buildrootDist(dist), name: uniqueName(`test-${dist.name}`) };
    assert.ok(pkg.kind === 'deb' || pkg.kind === 'rpm', `${pkg.project} is a ${pkg.kind} package`);
    const builder = builderFor(pkg.kind);
    const buildroot = await chooseBuildroot({ preferred: 'container', engine, cacheDir: join(dir, 'cache'), logger });
    const prepareStarted = performance.now();
    const prepared = await buildroot.prepare({ dist: distOfTest, buildDeps: await builder.buildDeps(pkg, target) });
    const prepareMs = Math.round(performance.now() - prepareStarted);
    madeImages.add(prepared.environment);
    try {
      const srcDir = join(dir, pkg.name, 'src');
      const outDir = join(dir, pkg.name, 'out');
      await cp(pkg.dir, srcDir, { recursive: true });
      await mkdir(outDir);
      const lines: string[] = [];
      const buildStarted = performance.now();
      await builder.build({
        pkg,
        buildroot: prepared,
        srcDir,
        outDir,
        signal: new AbortController().signal,
        onLine: (line) => lines.push(line),
      });
      const buildMs = Math.round(performance.now() - buildStarted);
      const names = (await builder.collect(outDir)).map((artifact) => `${artifact.kind}:${artifact.name}`);
      const { base, deps, baseMs, depsMs } = prepared.report;
      const report =
        `${pkg.name}: prepare ${prepareMs} ms (base ${base} ${baseMs} ms, deps ${deps} ${depsMs} ms), ` +
        `build ${buildMs} ms`;
      return { outDir, names, report };
    } finally {
      await prepared.release();
    }
  }

  it('builds hello-deb as the build user with fakeroot', async (t) => {
    const { outDir, names, report } = await buildExample('projects/demo/hello-deb');
    t.diagnostic(report);
    for (const expected of [
      'deb:hello-deb_1.0_amd64.deb',
      'deb-source:hello-deb_1.0.dsc',
      'deb-source:hello-deb_1.0.tar.xz',
      'buildinfo:hello-deb_1.0_amd64.buildinfo',
      'buildinfo:hello-deb_1.0_amd64.changes',
    ]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
    const deb = join(outDir, 'hello-deb_1.0_amd64.deb');
    const fields = (await runCommand('dpkg-deb', ['-f', deb, 'Package', 'Version'])).stdout;
    assert.equal(fields, 'Package: hello-deb\nVersion: 1.0\n');
    // fakeroot made the files root-owned in the package although the build user is uid 1000.
    const listing = (await runCommand('dpkg-deb', ['-c', deb])).stdout;
    assert.match(listing, /root\/root\s+\d+ .* \.\/usr\/bin\/hello-deb$/m);
  });

  it('builds hello-rpm as the build user', async (t) => {
    const { outDir, names, report } = await buildExample('projects/demo/hello-rpm');
    t.diagnostic(report);
    assert.deepEqual(names, ['srpm:hello-rpm-1.0-1.src.rpm', 'rpm:hello-rpm-1.0-1.x86_64.rpm']);
    const home = await mkdtemp(join(dir, 'home-'));
    const info = await runCommand('rpm', ['-qip', join(outDir, 'hello-rpm-1.0-1.x86_64.rpm')], { env: { HOME: home } });
    assert.match(info.stdout, /^Name\s*:\s*hello-rpm$/m);
    assert.match(info.stdout, /^Version\s*:\s*1\.0$/m);
  });
});
