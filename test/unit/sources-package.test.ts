import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BuildfleetError } from '../../shared/errors/index.ts';
import { listPackages, loadPackage, loadPackages, packagesOfDist } from '../../shared/sources/index.ts';
import { rejection } from '../harness/errors.ts';
import { freshTrees, suiteTempDir } from '../harness/temp-files.ts';

const BOOKWORM = `format: deb
base:
  bootstrap: { tool: mmdebstrap, suite: bookworm, mirror: http://deb.debian.org/debian }
runnerGroup: debian
arches: [x86_64, aarch64]
`;
const RPM_DIST = `format: rpm
base: { image: localhost/rpm-builder:1 }
`;

describe('package metadata', () => {
  const root = suiteTempDir('buildfleet-sources-package-');
  /** A fresh sources repo (plain directory) with the two dists and the given files. */
  const sourcesRepo = freshTrees(root, { 'dists/bookworm.yml': BOOKWORM, 'dists/rpmdist.yml': RPM_DIST });

  /** Loads projects/demo/hello from a repo holding `files` under it, and returns the error. */
  async function loadError(files: Record<string, string>): Promise<BuildfleetError> {
    const prefixed = Object.fromEntries(
      Object.entries(files).map(([path, text]) => [`projects/demo/hello/${path}`, text]),
    );
    const repoDir = await sourcesRepo(prefixed);
    return rejection(loadPackage({ repoDir, packageDir: 'projects/demo/hello' }));
  }

  it('loads buildfleet.yml and fills targets from the dist', async () => {
    const repoDir = await sourcesRepo({
      'projects/demo/hello/buildfleet.yml': `name: hello
version: "1.10"
kind: deb
targets:
  - { dist: bookworm, arch: x86_64 }
  - { dist: bookworm, arch: aarch64, runnerGroup: arm }
build: { timeoutMinutes: 30, memoryMb: 2048, network: false }
`,
      'projects/demo/hello/debian/control': 'Source: hello\n',
    });
    const spec = await loadPackage({ repoDir, packageDir: './projects/demo/hello/' });
    assert.equal(spec.project, 'projects/demo/hello');
    assert.equal(spec.dir, join(repoDir, 'projects/demo/hello'));
    assert.equal(spec.metadataFile, 'projects/demo/hello/buildfleet.yml');
    assert.equal(spec.metadataFormat, 'buildfleet');
    assert.equal(spec.name, 'hello');
    assert.equal(spec.version, '1.10');
    assert.equal(spec.kind, 'deb');
    assert.equal(spec.kindInferred, false);
    assert.deepEqual(spec.targets, [
      { dist: 'bookworm', arch: 'x86_64', runnerGroup: 'debian' },
      { dist: 'bookworm', arch: 'aarch64', runnerGroup: 'arm' },
    ]);
    assert.deepEqual(spec.files, { main: 'debian/control', debianControl: 'debian/control' });
    assert.deepEqual(spec.build, { timeoutMinutes: 30, memoryMb: 2048, network: false });
    assert.deepEqual(spec.docker, { buildArgs: {} });
    assert.deepEqual(spec.kiwi, { profiles: [], args: [] });
  });

  it('infers the kind from the files and the name from the directory', async () => {
    const cases: { files: Record<string, string>; kind: string; main: string }[] = [
      { files: { 'debian/control': 'Source: x\n' }, kind: 'deb', main: 'debian/control' },
      { files: { 'hello_1.0-1.dsc': 'Source: hello\n' }, kind: 'deb', main: 'hello_1.0-1.dsc' },
      { files: { 'hello.spec': 'Name: hello\n' }, kind: 'rpm', main: 'hello.spec' },
      { files: { 'config.xml': '<image/>' }, kind: 'kiwi', main: 'config.xml' },
      { files: { 'appliance.kiwi': '<image/>' }, kind: 'kiwi', main: 'appliance.kiwi' },
      { files: { Dockerfile: 'FROM scratch\n' }, kind: 'docker', main: 'Dockerfile' },
      // Several specs: the one named after the package is the one.
      { files: { 'hello.spec': '', 'other.spec': '' }, kind: 'rpm', main: 'hello.spec' },
    ];
    for (const { files, kind, main } of cases) {
      const dist = kind === 'rpm' ? 'rpmdist' : 'bookworm';
      const repoDir = await sourcesRepo({
        'projects/demo/hello/buildfleet.yml': `targets: [{ dist: ${dist}, arch: x86_64 }]\n`,
        ...Object.fromEntries(Object.entries(files).map(([path, text]) => [`projects/demo/hello/${path}`, text])),
      });
      const spec = await loadPackage({ repoDir, packageDir: 'projects/demo/hello' });
      assert.equal(spec.kind, kind, JSON.stringify(files));
      assert.equal(spec.kindInferred, true);
      assert.equal(spec.files.main, main);
      assert.equal(spec.name, 'hello');
    }
  });

  it('reports a kind that cannot be inferred, naming the file and the field', async () => {
    const yml = 'targets: [{ dist: bookworm, arch: x86_64 }]\n';
    const ambiguous = await loadError({ 'buildfleet.yml': yml, 'hello.spec': '', Dockerfile: 'FROM x\n' });
    assert.equal(ambiguous.code, 'metadata-invalid');
    assert.match(
      ambiguous.message,
      /^projects\/demo\/hello\/buildfleet\.yml: field "kind" is not set and the files fit/,
    );
    assert.match(ambiguous.message, /rpm \(hello\.spec\), docker \(Dockerfile\)/);
    assert.deepEqual(ambiguous.context, { file: 'projects/demo/hello/buildfleet.yml', field: 'kind', line: null });

    const none = await loadError({ 'buildfleet.yml': yml, 'README.md': 'hi' });
    assert.match(none.message, /field "kind" is not set and cannot be inferred: projects\/demo\/hello has none of/);

    const declared = await loadError({ 'buildfleet.yml': `kind: rpm\n${yml}`, Dockerfile: 'FROM x\n' });
    assert.match(
      declared.message,
      /buildfleet\.yml line 1: field "kind" is "rpm" but projects\/demo\/hello has no a \*\.spec/,
    );

    const twoSpecs = await loadError({ 'buildfleet.yml': `kind: rpm\n${yml}`, 'a.spec': '', 'b.spec': '' });
    assert.match(twoSpecs.message, /several candidate build files \(a\.spec, b\.spec\)/);
  });

  it('names file, line and field for every invalid buildfleet.yml', async () => {
    const cases: [string, string][] = [
      [
        'name: hello\ntargets:\n  - dist: bookworm\n    arch: 64\n',
        'projects/demo/hello/buildfleet.yml line 4: field "targets[0].arch" must be a string',
      ],
      [
        'name: hello\nkindd: deb\ntargets: [{ dist: bookworm, arch: x86_64 }]\n',
        'projects/demo/hello/buildfleet.yml line 2: unknown key "kindd" (known keys: name, version, kind, targets, docker, kiwi, noop, rebuild, build)',
      ],
      [
        'targets:\n  - dist: bookworm\n    arch: x86_64\n    runner_group: arm\n',
        'projects/demo/hello/buildfleet.yml line 4: unknown key "targets[0].runner_group" (known keys: dist, arch, runnerGroup)',
      ],
      ['name: hello\n', 'projects/demo/hello/buildfleet.yml: field "targets" is required'],
      ['targets: []\n', 'projects/demo/hello/buildfleet.yml line 1: field "targets" must have at least 1 item'],
      [
        'kind: zip\ntargets: [{ dist: bookworm, arch: x86_64 }]\n',
        'projects/demo/hello/buildfleet.yml line 1: field "kind" must be one of "rpm", "deb", "kiwi", "docker"',
      ],
      [
        'targets: [{ dist: bookworm, arch: x86_64 }]\nbuild:\n  network: true\n',
        'projects/demo/hello/buildfleet.yml line 3: field "build.network" must be false',
      ],
      [
        'targets: [{ dist: bookworm, arch: x86_64 }]\nbuild: { timeoutMinutes: 0 }\n',
        'projects/demo/hello/buildfleet.yml line 2: field "build.timeoutMinutes" must be >= 1',
      ],
      [
        'targets:\n  - { dist: bookworm, arch: "x86 64" }\n',
        'projects/demo/hello/buildfleet.yml line 2: field "targets[0].arch" must be a name of letters, digits, "_" and "-" (e.g. x86_64)',
      ],
      [
        'targets:\n  - { dist: bookworm }\n',
        'projects/demo/hello/buildfleet.yml line 2: field "targets[0].arch" is required',
      ],
      [
        'targets: [{ dist: bookworm, arch: x86_64 }]\ndocker: { buildArgs: { A: 1 } }\n',
        'projects/demo/hello/buildfleet.yml line 2: field "docker.buildArgs.A" must be a string',
      ],
      ['targets: [\n', 'projects/demo/hello/buildfleet.yml line 2: not valid YAML: '],
      ['', 'projects/demo/hello/buildfleet.yml: must be a YAML mapping of package settings (the file is empty)'],
      ['- a\n- b\n', 'projects/demo/hello/buildfleet.yml: must be a YAML mapping of package settings'],
      [
        'targets:\n  - { dist: bookworm, arch: x86_64 }\n  - { dist: bookworm, arch: x86_64 }\n',
        'projects/demo/hello/buildfleet.yml line 3: field "targets[1].arch" repeats the target bookworm x86_64',
      ],
      [
        'targets:\n  - { dist: bookworm, arch: ppc64le }\n',
        'projects/demo/hello/buildfleet.yml line 2: field "targets[0].arch" is "ppc64le", which dist "bookworm" does not list (x86_64, aarch64)',
      ],
      [
        'targets:\n  - { dist: rpmdist, arch: x86_64 }\n',
        'projects/demo/hello/buildfleet.yml line 2: field "targets[0].dist" names dist "rpmdist", which builds rpm packages; this package is deb',
      ],
      [
        'targets:\n  - { dist: bookworm, arch: x86_64 }\n  - { dist: trixie, arch: x86_64 }\n',
        'dists/trixie.yml: dist "trixie" is not defined: the file does not exist (named by projects/demo/hello/buildfleet.yml line 3)',
      ],
    ];
    for (const [yml, expected] of cases) {
      const error = await loadError({ 'buildfleet.yml': yml, 'debian/control': 'Source: hello\n' });
      assert.equal(error.code, 'metadata-invalid', yml);
      assert.ok(
        error.message.startsWith(expected),
        `${JSON.stringify(yml)}\n  got:      ${error.message}\n  expected: ${expected}`,
      );
    }
  });

  it('reads the predecessor .cb/cloud_builder.yml, ignoring keys it does not use', async () => {
    const repoDir = await sourcesRepo({
      'projects/legacy/tool/.cb/cloud_builder.yml': `schema_version: 0.1
name: tool
description: something the predecessor showed
distributions:
  - dist: bookworm
    arch: x86_64
    runner_group: suse
  - dist: bookworm
    arch: aarch64
`,
      'projects/legacy/tool/debian/control': 'Source: tool\n',
    });
    const spec = await loadPackage({ repoDir, packageDir: 'projects/legacy/tool' });
    assert.equal(spec.metadataFormat, 'cloud-builder');
    assert.equal(spec.metadataFile, 'projects/legacy/tool/.cb/cloud_builder.yml');
    assert.equal(spec.name, 'tool');
    assert.equal(spec.kind, 'deb');
    assert.deepEqual(spec.targets, [
      { dist: 'bookworm', arch: 'x86_64', runnerGroup: 'suse' },
      { dist: 'bookworm', arch: 'aarch64', runnerGroup: 'debian' },
    ]);
  });

  it('names .cb/cloud_builder.yml and its own field names in errors', async () => {
    const wrongArch = await loadError({
      '.cb/cloud_builder.yml': 'distributions:\n  - dist: bookworm\n    arch: [x86_64]\n',
      'debian/control': '',
    });
    assert.equal(
      wrongArch.message,
      'projects/demo/hello/.cb/cloud_builder.yml line 3: field "distributions[0].arch" must be a string',
    );
    const imagesOnly = await loadError({
      '.cb/cloud_builder.yml': 'images:\n  - arch: x86_64\n    runner_group: suse\n    selection: { name: x }\n',
      'config.xml': '<image/>',
    });
    assert.match(
      imagesOnly.message,
      /cloud_builder\.yml: field "distributions" is required: "images" entries are not read/,
    );
    const twice = await loadError({
      '.cb/cloud_builder.yml':
        'distributions:\n  - { dist: bookworm, arch: x86_64 }\n  - { dist: bookworm, arch: x86_64 }\n',
      'debian/control': '',
    });
    assert.match(twice.message, /line 3: field "distributions\[1\]\.arch" repeats the target/);
  });

  it('prefers buildfleet.yml when both files exist', async () => {
    const repoDir = await sourcesRepo({
      'projects/demo/both/buildfleet.yml': 'targets: [{ dist: bookworm, arch: aarch64 }]\n',
      'projects/demo/both/.cb/cloud_builder.yml': 'distributions: [{ dist: bookworm, arch: x86_64 }]\n',
      'projects/demo/both/Dockerfile': 'FROM scratch\n',
    });
    const spec = await loadPackage({ repoDir, packageDir: 'projects/demo/both' });
    assert.equal(spec.metadataFormat, 'buildfleet');
    assert.equal(spec.ignoredMetadataFile, 'projects/demo/both/.cb/cloud_builder.yml');
    assert.deepEqual(
      spec.targets.map((target) => target.arch),
      ['aarch64'],
    );
  });

  it('reports missing and malformed package paths', async () => {
    const repoDir = await sourcesRepo({ 'projects/demo/empty/README': 'no metadata here\n' });
    const missing = await rejection(loadPackage({ repoDir, packageDir: 'projects/demo/nope' }));
    assert.equal(missing.code, 'source-path-missing');
    assert.match(missing.message, /projects\/demo\/nope does not exist/);
    assert.deepEqual(missing.context, { path: 'projects/demo/nope' });
    const aFile = await rejection(loadPackage({ repoDir, packageDir: 'projects/demo/empty/README' }));
    assert.equal(aFile.code, 'source-path-missing');
    const noMetadata = await rejection(loadPackage({ repoDir, packageDir: 'projects/demo/empty' }));
    assert.equal(noMetadata.code, 'metadata-invalid');
    assert.match(noMetadata.message, /^projects\/demo\/empty\/buildfleet\.yml: missing/);
    for (const packageDir of ['../outside', '/etc', '.', 'projects/../../x']) {
      const bad = await rejection(loadPackage({ repoDir, packageDir }));
      assert.equal(bad.code, 'key-invalid', packageDir);
    }
  });

  it('lists packages under projects/ and loads them, reporting broken ones apart', async () => {
    const repoDir = await sourcesRepo({
      'projects/demo/hello-deb/buildfleet.yml': 'targets: [{ dist: bookworm, arch: x86_64 }]\n',
      'projects/demo/hello-deb/debian/control': 'Source: hello\n',
      // A directory inside a package is part of it, never a package of its own.
      'projects/demo/hello-deb/debian/tests/buildfleet.yml': 'targets: []\n',
      'projects/demo/hello-rpm/buildfleet.yml': 'targets: [{ dist: rpmdist, arch: x86_64 }]\n',
      'projects/demo/hello-rpm/hello-rpm.spec': 'Name: hello-rpm\n',
      'projects/legacy/deep/tool/.cb/cloud_builder.yml': 'distributions: [{ dist: bookworm, arch: x86_64 }]\n',
      'projects/legacy/deep/tool/debian/control': 'Source: tool\n',
      'projects/broken/buildfleet.yml': 'targets: [{ dist: bookworm, arch: x86_64 }]\nkindd: deb\n',
      'projects/.hidden/buildfleet.yml': 'targets: []\n',
      'projects/docs/README.md': 'not a package\n',
      'elsewhere/pkg/buildfleet.yml': 'targets: []\n',
    });
    assert.deepEqual(await listPackages(repoDir), [
      'projects/broken',
      'projects/demo/hello-deb',
      'projects/demo/hello-rpm',
      'projects/legacy/deep/tool',
    ]);
    const scan = await loadPackages(repoDir);
    assert.deepEqual(
      scan.packages.map((spec) => spec.project),
      ['projects/demo/hello-deb', 'projects/demo/hello-rpm', 'projects/legacy/deep/tool'],
    );
    assert.equal(scan.problems.length, 1);
    assert.match(scan.problems[0]?.message ?? '', /^projects\/broken\/buildfleet\.yml line 2: unknown key "kindd"/);

    const ofBookworm = await packagesOfDist(repoDir, 'bookworm');
    assert.deepEqual(
      ofBookworm.packages.map((spec) => spec.project),
      ['projects/demo/hello-deb', 'projects/legacy/deep/tool'],
    );
    assert.equal(ofBookworm.problems.length, 1);
    assert.deepEqual(
      (await packagesOfDist(repoDir, 'rpmdist')).packages.map((spec) => spec.name),
      ['hello-rpm'],
    );
    assert.deepEqual(await listPackages(join(root.path, 'no-such-repo')), []);
  });
});
