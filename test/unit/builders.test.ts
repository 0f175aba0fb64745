/**
 * The builders' decisions without build tools: artifact kinds from file names, BuildRequires
 * mapped to Debian relations, build dependencies and metadata errors read from package
 * directories in temp dirs, and collecting an output directory.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { loadPackage, type PackageSpec } from '../../shared/sources/index.ts';
import {
  artifactKindOf,
  builderFor,
  collectArtifacts,
  debianRelationsForBuildRequires,
  isBuilderKind,
} from '../../runner/builders/index.ts';
import { writeTree } from '../harness/temp-files.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/sources', import.meta.url));

describe('artifactKindOf', () => {
  it('classifies the files deb and rpm builds leave', () => {
    const cases: [string, string][] = [
      ['hello_1.0_amd64.deb', 'deb'],
      ['hello-udeb_1.0_amd64.udeb', 'deb'],
      ['hello-dbgsym_1.0_amd64.ddeb', 'deb'],
      ['hello_1.0.dsc', 'deb-source'],
      ['hello_1.0.tar.xz', 'deb-source'],
      ['hello_1.0.orig.tar.gz', 'deb-source'],
      ['hello_1.0-1.debian.tar.xz', 'deb-source'],
      ['hello_1.0-1.diff.gz', 'deb-source'],
      ['hello-1.0-1.src.rpm', 'srpm'],
      ['hello-1.0-1.nosrc.rpm', 'srpm'],
      ['hello-1.0-1.x86_64.rpm', 'rpm'],
      ['hello-1.0-1.noarch.rpm', 'rpm'],
      ['hello_1.0_amd64.buildinfo', 'buildinfo'],
      ['hello_1.0_amd64.changes', 'buildinfo'],
      ['build.log', 'other'],
      ['hello.rpm.sig', 'other'],
    ];
    for (const [name, kind] of cases) assert.equal(artifactKindOf(name), kind, name);
  });
});

describe('debianRelationsForBuildRequires', () => {
  it('drops versions and rpm tooling, renames known names, passes other names on', () => {
    const mapped = debianRelationsForBuildRequires([
      'gcc',
      'make >= 4.0',
      'gcc-c++',
      'rpm-build',
      'zlib-devel = 1.2.13',
      'libfoo-dev',
      'gcc',
    ]);
    assert.deepEqual(mapped, { relations: ['gcc', 'make', 'g++', 'zlib1g-dev', 'libfoo-dev'], unmapped: [] });
  });

  it('maps known pkgconfig() modules to their -dev package plus pkg-config', () => {
    assert.deepEqual(debianRelationsForBuildRequires(['pkgconfig(zlib)', 'pkgconfig(glib-2.0) >= 2.70']), {
      relations: ['pkg-config', 'zlib1g-dev', 'libglib2.0-dev'],
      unmapped: [],
    });
  });

  it('turns a rich "or" dependency into Debian alternatives', () => {
    assert.deepEqual(debianRelationsForBuildRequires(['(gcc-c++ or clang >= 14)', '(rpm-build or foo)']).relations, [
      'g++ | clang',
    ]);
  });

  it('reports what has no Debian package name', () => {
    const unmappable = [
      'pkgconfig(no-such-module)',
      'perl(Foo::Bar)',
      '/usr/bin/python3',
      'python3-PyYAML',
      '%{py3_dist}',
      '(foo and bar)',
      '(foo or (bar or baz))',
    ];
    assert.deepEqual(debianRelationsForBuildRequires(['gcc', ...unmappable]), {
      relations: ['gcc'],
      unmapped: unmappable,
    });
  });
});

describe('builderFor', () => {
  it('has builders for every kind; docker needs a registry', () => {
    assert.equal(builderFor('deb').kind, 'deb');
    assert.equal(builderFor('rpm').kind, 'rpm');
    assert.equal(builderFor('kiwi').kind, 'kiwi');
    assert.throws(
      () => builderFor('docker'),
      (error: unknown) => isBuildfleetError(error, 'kind-unsupported') && !error.retriable,
    );
    assert.deepEqual(
      (['deb', 'rpm', 'kiwi', 'docker'] as const).filter((kind) => isBuilderKind(kind)),
      ['deb', 'rpm', 'kiwi', 'docker'],
    );
  });
});

describe('build dependencies and metadata errors', () => {
  let repoDir: string;
  const target = { dist: 'bookworm', arch: 'x86_64' };

  before(async () => {
    repoDir = await mkdtemp(join(tmpdir(), 'builders-unit-'));
    await cp(join(EXAMPLES, 'dists'), join(repoDir, 'dists'), { recursive: true });
  });
  after(async () => {
    await rm(repoDir, { recursive: true, force: true });
  });

  /** Writes `files` into the package directory `project` and loads the package. */
  async function packageWith(project: string, files: Record<string, string>): Promise<PackageSpec> {
    await writeTree(join(repoDir, project), files);
    return loadPackage({ repoDir, packageDir: project });
  }

  /** Asserts that the `kind` builder's dependencies of `pkg` fail as metadata-invalid naming `file`. */
  async function assertBuildDepsFail(
    kind: 'deb' | 'rpm',
    pkg: PackageSpec,
    file: string,
    detail: RegExp,
  ): Promise<void> {
    await assert.rejects(builderFor(kind).buildDeps(pkg, target), metadataError(file, detail));
  }

  const debTargets = 'targets:\n  - { dist: bookworm, arch: x86_64 }\n';
  const rpmTargets = 'targets:\n  - { dist: rpm-bookworm, arch: x86_64 }\n';

  function metadataError(file: string, detail: RegExp): (error: unknown) => boolean {
    return (error) => {
      assert.ok(isBuildfleetError(error, 'metadata-invalid'), String(error));
      assert.ok(error.message.startsWith(`${file}: `), error.message);
      assert.match(error.message, detail);
      return true;
    };
  }

  it('evaluates Build-Depends for the target arch', async () => {
    const pkg = await packageWith('projects/t/arch', {
      'buildfleet.yml': debTargets,
      'debian/control':
        'Source: arch\nBuild-Depends: debhelper-compat (= 13), libamd64-only [amd64], libarm-only [arm64]\n\n' +
        'Package: arch\nArchitecture: any\n',
    });
    assert.deepEqual(await builderFor('deb').buildDeps(pkg, target), ['debhelper-compat (= 13)', 'libamd64-only']);
    assert.deepEqual(await builderFor('deb').buildDeps(pkg, { ...target, arch: 'aarch64' }), [
      'debhelper-compat (= 13)',
      'libarm-only',
    ]);
  });

  it('reads Build-Depends from a .dsc when there is no debian/ directory', async () => {
    const pkg = await packageWith('projects/t/from-dsc', {
      'buildfleet.yml': debTargets,
      'from-dsc_1.0.dsc':
        'Format: 3.0 (native)\nSource: from-dsc\nVersion: 1.0\nBuild-Depends: debhelper-compat (= 13), zlib1g-dev\n',
    });
    assert.deepEqual(await builderFor('deb').buildDeps(pkg, target), ['debhelper-compat (= 13)', 'zlib1g-dev']);
  });

  it('fails a control file without Source or with an unparsable relation, naming the file', async () => {
    const cases: [project: string, control: string, detail: RegExp][] = [
      [
        'projects/t/no-source',
        'Build-Depends: debhelper-compat (= 13)\n\nPackage: x\nArchitecture: any\n',
        /"Source" is missing/,
      ],
      [
        'projects/t/bad-relation',
        'Source: bad-relation\nBuild-Depends: libfoo, lib$bad\n',
        /"Build-Depends" has a relation that cannot be parsed: "lib\$bad"/,
      ],
    ];
    for (const [project, control, detail] of cases) {
      const pkg = await packageWith(project, { 'buildfleet.yml': debTargets, 'debian/control': control });
      await assertBuildDepsFail('deb', pkg, `${project}/debian/control`, detail);
    }
  });

  it('fails BuildRequires without a Debian name, and a spec that cannot be read, naming the spec', async () => {
    const unmapped = await packageWith('projects/t/unmapped', {
      'buildfleet.yml': rpmTargets,
      'unmapped.spec': 'Name: unmapped\nBuildRequires: gcc, pkgconfig(no-such-module), perl(Foo)\n',
    });
    const spec = 'projects/t/unmapped/unmapped.spec';
    await assertBuildDepsFail('rpm', unmapped, spec, /pkgconfig\(no-such-module\), perl\(Foo\)/);
    await rm(join(repoDir, spec));
    await assertBuildDepsFail('rpm', unmapped, spec, /cannot be read/);
  });
});

describe('collectArtifacts', () => {
  it('lists every file below the output directory, sorted, with its kind and path', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'builders-collect-'));
    try {
      const names = ['b_1.0_amd64.deb', 'b_1.0.dsc', 'a-1.0-1.src.rpm', 'extra/notes.txt'];
      await writeTree(outDir, Object.fromEntries(names.map((name) => [name, name])));
      assert.deepEqual(await collectArtifacts(outDir), [
        { name: 'a-1.0-1.src.rpm', kind: 'srpm', path: join(outDir, 'a-1.0-1.src.rpm') },
        { name: 'b_1.0.dsc', kind: 'deb-source', path: join(outDir, 'b_1.0.dsc') },
        { name: 'b_1.0_amd64.deb', kind: 'deb', path: join(outDir, 'b_1.0_amd64.deb') },
        { name: 'extra/notes.txt', kind: 'other', path: join(outDir, 'extra/notes.txt') },
      ]);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
