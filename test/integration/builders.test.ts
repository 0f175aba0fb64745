/**
 * The deb and rpm builders on the host buildroot (made through chooseBuildroot) with the real
 * tools: dpkg-buildpackage, fakeroot, debhelper, rpmbuild (infra/install.sh installs them and the
 * examples' build dependencies). Builds the two example packages of examples/sources and checks
 * the artifacts with dpkg-deb, dpkg-source and rpm; packages that do not compile fail with
 * 'build-failed' and the compiler's error in the log.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { loadDist, loadPackage, type PackageSpec } from '../../shared/sources/index.ts';
import { buildrootDist, chooseBuildroot, type PreparedBuildroot } from '../../runner/buildroot/index.ts';
import { builderFor, type CollectedArtifact } from '../../runner/builders/index.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/sources', import.meta.url));
const logger = createLogger({ name: 'builders-test', level: 'silent' });

async function run(file: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return (await runCommand(file, args, { env, timeoutMs: 60_000 })).stdout;
}

describe('deb and rpm builders (host buildroot)', { timeout: 10 * 60_000 }, () => {
  let dir: string;
  const prepared: PreparedBuildroot[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'builders-'));
  });
  after(async () => {
    for (const buildroot of prepared) await buildroot.release();
    await rm(dir, { recursive: true, force: true });
  });

  async function prepare(repoDir: string, pkg: PackageSpec): Promise<PreparedBuildroot> {
    const target = pkg.targets[0];
    assert.ok(target !== undefined);
    const dist = await loadDist({ repoDir, name: target.dist });
    assert.ok(pkg.kind === 'deb' || pkg.kind === 'rpm', `${pkg.project} is a ${pkg.kind} package`);
    const builder = builderFor(pkg.kind);
    const buildroot = await chooseBuildroot({ preferred: 'host', cacheDir: join(dir, 'cache'), logger });
    const ready = await buildroot.prepare({
      dist: buildrootDist(dist),
      buildDeps: await builder.buildDeps(pkg, target),
    });
    prepared.push(ready);
    return ready;
  }

  /** Builds a package from a copy of its directory; resolves with the artifacts or rejects with the builder's error. */
  async function build(
    repoDir: string,
    packageDir: string,
    options: { signal?: AbortSignal; onLine?: (line: string) => void } = {},
  ): Promise<{ artifacts: CollectedArtifact[]; lines: string[]; outDir: string; ms: number }> {
    const pkg = await loadPackage({ repoDir, packageDir });
    const buildroot = await prepare(repoDir, pkg);
    const work = await mkdtemp(join(dir, 'build-'));
    const srcDir = join(work, 'src');
    const outDir = join(work, 'out');
    await cp(pkg.dir, srcDir, { recursive: true });
    await mkdir(outDir);
    const lines: string[] = [];
    assert.ok(pkg.kind === 'deb' || pkg.kind === 'rpm', `${pkg.project} is a ${pkg.kind} package`);
    const builder = builderFor(pkg.kind);
    const started = performance.now();
    await builder.build({
      pkg,
      buildroot,
      srcDir,
      outDir,
      signal: options.signal ?? new AbortController().signal,
      onLine: (line) => {
        lines.push(line);
        options.onLine?.(line);
      },
    });
    const ms = Math.round(performance.now() - started);
    return { artifacts: await builder.collect(outDir), lines, outDir, ms };
  }

  function byKind(artifacts: CollectedArtifact[], kind: string): string[] {
    return artifacts.filter((artifact) => artifact.kind === kind).map((artifact) => artifact.name);
  }

  it('returns the Build-Depends and the mapped BuildRequires of the examples', async () => {
    const deb = await loadPackage({ repoDir: EXAMPLES, packageDir: 'projects/demo/hello-deb' });
    const rpm = await loadPackage({ repoDir: EXAMPLES, packageDir: 'projects/demo/hello-rpm' });
    const target = { dist: 'bookworm', arch: 'x86_64' };
    assert.deepEqual(await builderFor('deb').buildDeps(deb, target), ['debhelper-compat (= 13)', 'libpopt-dev']);
    assert.deepEqual(await builderFor('rpm').buildDeps(rpm, { ...target, dist: 'rpm-bookworm' }), ['gcc', 'make']);
  });

  it('builds hello-deb: binary and source package, the program runs', async (t) => {
    const { artifacts, lines, ms } = await build(EXAMPLES, 'projects/demo/hello-deb');
    t.diagnostic(`hello-deb build: ${ms} ms`);
    const debs = byKind(artifacts, 'deb');
    assert.ok(debs.includes('hello-deb_1.0_amd64.deb'), `debs: ${debs.join(', ')}`);
    assert.deepEqual(byKind(artifacts, 'deb-source'), ['hello-deb_1.0.dsc', 'hello-deb_1.0.tar.xz']);
    assert.deepEqual(byKind(artifacts, 'buildinfo'), ['hello-deb_1.0_amd64.buildinfo', 'hello-deb_1.0_amd64.changes']);
    assert.deepEqual(byKind(artifacts, 'other'), []);
    assert.ok(lines.some((line) => line.includes('dpkg-buildpackage')));

    const path = (name: string): string => artifacts.find((artifact) => artifact.name === name)?.path ?? name;
    const deb = path('hello-deb_1.0_amd64.deb');
    assert.equal(await run('dpkg-deb', ['-f', deb, 'Package']), 'hello-deb\n');
    assert.equal(await run('dpkg-deb', ['-f', deb, 'Version']), '1.0\n');
    assert.match(await run('dpkg-deb', ['-f', deb, 'Depends']), /libpopt0/);
    const root = join(dir, 'hello-deb-root');
    await run('dpkg-deb', ['-x', deb, root]);
    assert.equal(await run(join(root, 'usr/bin/hello-deb'), ['--version']), 'hello-deb 1.0 (popt)\n');
    assert.equal(await run(join(root, 'usr/bin/hello-deb'), ['--name', 'fleet']), 'Hello, fleet!\n');

    // The source package is complete: dpkg-source unpacks it into the original tree.
    const unpacked = join(dir, 'hello-deb-source');
    await run('dpkg-source', ['-x', path('hello-deb_1.0.dsc'), unpacked]);
    assert.ok((await readdir(join(unpacked, 'debian'))).includes('control'));

    // The same source package as a package directory of its own (.dsc layout) builds again.
    const repoDir = await mkdtemp(join(dir, 'dsc-repo-'));
    await cp(join(EXAMPLES, 'dists'), join(repoDir, 'dists'), { recursive: true });
    const dscDir = join(repoDir, 'projects/demo/hello-dsc');
    await mkdir(dscDir, { recursive: true });
    await writeFile(join(dscDir, 'buildfleet.yml'), 'targets:\n  - { dist: bookworm, arch: x86_64 }\n');
    for (const name of ['hello-deb_1.0.dsc', 'hello-deb_1.0.tar.xz']) await cp(path(name), join(dscDir, name));
    const rebuilt = await build(repoDir, 'projects/demo/hello-dsc');
    assert.ok(byKind(rebuilt.artifacts, 'deb').includes('hello-deb_1.0_amd64.deb'));
    assert.deepEqual(byKind(rebuilt.artifacts, 'deb-source'), ['hello-deb_1.0.dsc', 'hello-deb_1.0.tar.xz']);
  });

  it('builds hello-rpm: binary and source rpm with the spec name and version, the program runs', async (t) => {
    const { artifacts, ms } = await build(EXAMPLES, 'projects/demo/hello-rpm');
    t.diagnostic(`hello-rpm build: ${ms} ms`);
    assert.deepEqual(byKind(artifacts, 'rpm'), ['hello-rpm-1.0-1.x86_64.rpm']);
    assert.deepEqual(byKind(artifacts, 'srpm'), ['hello-rpm-1.0-1.src.rpm']);
    assert.equal(artifacts.length, 2);

    // rpm keeps a database in ~/.rpmdb: a HOME of the test's own leaves the real one alone.
    const home = await mkdtemp(join(dir, 'home-'));
    for (const artifact of artifacts) {
      const info = await run('rpm', ['-qip', artifact.path], { HOME: home });
      assert.match(info, /^Name\s*:\s*hello-rpm$/m);
      assert.match(info, /^Version\s*:\s*1\.0$/m);
      assert.match(info, /^Release\s*:\s*1$/m);
    }
    const binary = artifacts.find((artifact) => artifact.kind === 'rpm');
    assert.ok(binary !== undefined);
    const root = join(dir, 'hello-rpm-root');
    await mkdir(root);
    await run('sh', ['-c', 'rpm2archive - < "$1" | tar -xzf - -C "$2"', 'sh', binary.path, root], { HOME: home });
    assert.equal(await run(join(root, 'usr/bin/hello-rpm'), ['--version']), 'hello-rpm 1.0\n');
  });

  describe('packages that do not build', () => {
    let repoDir: string;
    before(async () => {
      repoDir = await mkdtemp(join(dir, 'broken-repo-'));
      await cp(join(EXAMPLES, 'dists'), join(repoDir, 'dists'), { recursive: true });
      await writeBrokenDeb(join(repoDir, 'projects/broken/broken-deb'));
      await writeBrokenRpm(join(repoDir, 'projects/broken/broken-rpm'));
      await writeSlowRpm(join(repoDir, 'projects/broken/slow-rpm'));
    });

    it('fails a deb whose C code does not compile with build-failed and the compiler error in the log', async () => {
      const lines: string[] = [];
      await assert.rejects(
        build(repoDir, 'projects/broken/broken-deb', { onLine: (line) => lines.push(line) }),
        (error: unknown) => {
          assert.ok(isBuildfleetError(error, 'build-failed'), String(error));
          assert.match(error.message, /^dpkg-buildpackage failed with exit code [1-9]\d*/);
          assert.match(error.message, /buildfleet: dpkg-buildpackage exited with code/);
          return true;
        },
      );
      assert.ok(
        lines.some((line) => /broken\.c:\d+:\d+: error:/.test(line)),
        `compiler error in the log:\n${lines.join('\n')}`,
      );
    });

    it('fails an rpm whose C code does not compile with build-failed and the compiler error in the message', async () => {
      await assert.rejects(build(repoDir, 'projects/broken/broken-rpm'), (error: unknown) => {
        assert.ok(isBuildfleetError(error, 'build-failed'), String(error));
        assert.match(error.message, /^rpmbuild failed with exit code [1-9]/);
        assert.match(error.message, /broken\.c:\d+:\d+: error:/);
        assert.equal(error.context['tool'], 'rpmbuild');
        return true;
      });
    });

    it('stops a running build when its signal is aborted', async () => {
      const controller = new AbortController();
      const started = performance.now();
      await assert.rejects(
        build(repoDir, 'projects/broken/slow-rpm', {
          signal: controller.signal,
          onLine: (line) => {
            if (line.includes('sleep 300')) controller.abort(new Error('cancelled by the test'));
          },
        }),
        (error: unknown) => isBuildfleetError(error, 'aborted'),
      );
      assert.ok(performance.now() - started < 30_000, 'the build stopped long before its sleep ended');
    });
  });
});

const BROKEN_C = 'int main(void) {\n  return missing_symbol\n}\n';

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
}

async function writeBrokenDeb(root: string): Promise<void> {
  await writeFiles(root, {
    'buildfleet.yml': 'kind: deb\ntargets:\n  - { dist: bookworm, arch: x86_64 }\n',
    'broken.c': BROKEN_C,
    Makefile: 'broken: broken.c\n\t$(CC) $(CFLAGS) -o $@ $<\nclean:\n\trm -f broken\n',
    'debian/control':
      'Source: broken-deb\nMaintainer: Test <test@buildfleet.invalid>\nBuild-Depends: debhelper-compat (= 13)\n\n' +
      'Package: broken-deb\nArchitecture: any\nDescription: does not compile\n does not compile\n',
    'debian/changelog':
      'broken-deb (0.1) bookworm; urgency=medium\n\n  * Broken.\n\n' +
      ' -- Test <test@buildfleet.invalid>  Mon, 01 Jan 2024 00:00:00 +0000\n',
    'debian/rules': '#!/usr/bin/make -f\n%:\n\tdh $@\n',
    'debian/source/format': '3.0 (native)\n',
  });
  await chmod(join(root, 'debian/rules'), 0o755);
}

function specOf(name: string, build: string): string {
  return [
    `Name: ${name}`,
    'Version: 0.1',
    'Release: 1',
    'Summary: a test package',
    'License: MIT',
    'BuildRequires: gcc',
    '%description',
    'A test package.',
    '%build',
    build,
    '%files',
    '',
  ].join('\n');
}

async function writeBrokenRpm(root: string): Promise<void> {
  await writeFiles(root, {
    'buildfleet.yml': 'kind: rpm\ntargets:\n  - { dist: rpm-bookworm, arch: x86_64 }\n',
    // No tarball: the spec compiles a file it writes itself, which keeps the fixture small.
    'broken-rpm.spec': specOf('broken-rpm', `printf '${BROKEN_C.replace(/\n/g, '\\n')}' > broken.c\ngcc -c broken.c`),
  });
}

async function writeSlowRpm(root: string): Promise<void> {
  await writeFiles(root, {
    'buildfleet.yml': 'kind: rpm\ntargets:\n  - { dist: rpm-bookworm, arch: x86_64 }\n',
    'slow-rpm.spec': specOf('slow-rpm', 'sleep 300'),
  });
}
