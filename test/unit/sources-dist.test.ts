import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { listDists, loadDist, type DistSpec } from '../../shared/sources/index.ts';
import { rejection } from '../harness/errors.ts';

const examplesRepo = fileURLToPath(new URL('../../examples/sources', import.meta.url));

describe('dist definitions', () => {
  let root: string;
  let count = 0;

  async function distFrom(text: string, name = 'testdist'): Promise<DistSpec> {
    const repoDir = join(root, `repo-${++count}`);
    await mkdir(join(repoDir, 'dists'), { recursive: true });
    await writeFile(join(repoDir, 'dists', `${name}.yml`), text);
    return loadDist({ repoDir, name });
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'buildfleet-sources-dist-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads a bootstrapped deb dist and fills the defaults', async () => {
    const dist = await distFrom(`format: deb
base:
  bootstrap:
    tool: mmdebstrap
    suite: bookworm
    mirror: http://deb.debian.org/debian
repositories:
  - url: http://deb.debian.org/debian-security
    suite: bookworm-security
packages: [build-essential, fakeroot, build-essential]
`);
    assert.deepEqual(dist, {
      name: 'testdist',
      file: 'dists/testdist.yml',
      format: 'deb',
      base: {
        kind: 'bootstrap',
        tool: 'mmdebstrap',
        suite: 'bookworm',
        mirror: 'http://deb.debian.org/debian',
        variant: 'buildd',
        components: ['main'],
      },
      // The bootstrap mirror is an apt source of the buildroot too, first.
      repositories: [
        { url: 'http://deb.debian.org/debian', suite: 'bookworm', components: ['main'] },
        { url: 'http://deb.debian.org/debian-security', suite: 'bookworm-security', components: ['main'] },
      ],
      runnerGroup: 'default',
      packages: ['build-essential', 'fakeroot'],
      arches: undefined,
      ownRepositories: true,
      rebuildDependants: 'transitive',
    });
  });

  it('reads repository keys and the own repositories a dist installs from', async () => {
    const dist = await distFrom(`format: deb
base: { image: "localhost/builder:1" }
repositories:
  - { url: "http://127.0.0.1:8080/extra", suite: stable, key: "https://keys.example.com/extra.asc" }
  - { url: "http://127.0.0.1:8080/other", suite: stable, key: "./keys/other.gpg" }
ownRepositories: [projects/testdist, projects/libs/testdist]
`);
    assert.deepEqual(
      dist.repositories.map((repository) => repository.key),
      [
        { kind: 'url', url: 'https://keys.example.com/extra.asc' },
        { kind: 'path', path: 'keys/other.gpg' },
      ],
    );
    assert.deepEqual(dist.ownRepositories, ['projects/testdist', 'projects/libs/testdist']);
    const off = await distFrom('format: rpm\nbase: { image: x }\nownRepositories: false\n');
    assert.equal(off.ownRepositories, false);
  });

  it('reads an image-based rpm dist with rpm-md repositories', async () => {
    const dist = await distFrom(`format: rpm
base: { image: "registry.example.com/fedora-builder:40" }
repositories:
  - { url: "https://mirror.example.com/fedora/40/x86_64/os/", name: fedora }
  - { url: "file:///srv/extra" }
runnerGroup: fedora
arches: [x86_64]
`);
    assert.equal(dist.format, 'rpm');
    assert.deepEqual(dist.base, { kind: 'image', image: 'registry.example.com/fedora-builder:40' });
    assert.deepEqual(dist.repositories, [
      { url: 'https://mirror.example.com/fedora/40/x86_64/os/', name: 'fedora' },
      { url: 'file:///srv/extra', name: 'repo2' },
    ]);
    assert.equal(dist.runnerGroup, 'fedora');
    assert.deepEqual(dist.arches, ['x86_64']);
  });

  it('names the file, line and field of every mistake', async () => {
    const bootstrap = 'base:\n  bootstrap: { tool: debootstrap, suite: bookworm, mirror: "http://m/debian" }\n';
    const cases: [string, string][] = [
      ['base: { image: x }\n', 'dists/testdist.yml: field "format" is required'],
      [
        'format: deb\nbase: { image: x }\nrepositories:\n  - { url: "http://r", suite: s, key: "../k.asc" }\n',
        'dists/testdist.yml line 4: field "repositories[0].key" must be an http(s):// or file:// URL or a relative path in the sources repo (no "..")',
      ],
      [
        'format: deb\nbase: { image: x }\nownRepositories: [projects/other]\n',
        'dists/testdist.yml line 3: field "ownRepositories[0]" must be a repo key of this dist, "<parent dir of the packages>/testdist" (e.g. projects/testdist)',
      ],
      ['format: tar\nbase: { image: x }\n', 'dists/testdist.yml line 1: field "format" must be one of "deb", "rpm"'],
      [
        'format: deb\nbase:\n  image: x\n  bootstrap: { tool: mmdebstrap, suite: s, mirror: "http://m" }\n',
        'dists/testdist.yml line 3: field "base" must have exactly one of the keys "image" or "bootstrap"',
      ],
      ['format: deb\nbase: {}\n', 'dists/testdist.yml line 2: field "base" must have exactly one of the keys'],
      [
        `format: deb\n${bootstrap.replace('mirror', 'mirrorr')}`,
        'dists/testdist.yml line 3: unknown key "base.bootstrap.mirrorr"',
      ],
      [
        'format: deb\nbase:\n  bootstrap: { tool: cdebootstrap, suite: s, mirror: "http://m" }\n',
        'dists/testdist.yml line 3: field "base.bootstrap.tool" must be one of "mmdebstrap", "debootstrap"',
      ],
      [
        'format: deb\nbase:\n  bootstrap: { tool: mmdebstrap, suite: s, mirror: deb.debian.org }\n',
        'dists/testdist.yml line 3: field "base.bootstrap.mirror" must be an http://, https:// or file:// URL',
      ],
      [
        'format: deb\nbase:\n  bootstrap:\n    tool: debootstrap\n    suite: s\n    mirror: "http://m"\n    variant: apt\n',
        'dists/testdist.yml line 7: field "base.bootstrap.variant" must be a variant debootstrap knows: minbase, buildd, fakechroot',
      ],
      [
        `format: deb\n${bootstrap}repositories:\n  - url: "http://m/extra"\n`,
        'dists/testdist.yml line 5: field "repositories[0].suite" is required for a deb dist',
      ],
      [
        `format: deb\n${bootstrap}repositories:\n  - { url: "http://m", suite: s, name: x }\n`,
        'dists/testdist.yml line 5: field "repositories[0].name" is for rpm dists only',
      ],
      [
        'format: rpm\nbase: { image: x }\nrepositories:\n  - url: "http://m"\n    suite: s\n',
        'dists/testdist.yml line 5: field "repositories[0].suite" is for deb dists only',
      ],
      [
        `format: deb\n${bootstrap}runnerGroup: arm.big\n`,
        'dists/testdist.yml line 4: field "runnerGroup" must be a name of letters, digits, "_" and "-"',
      ],
      [`format: deb\n${bootstrap}arches: []\n`, 'dists/testdist.yml line 4: field "arches" must have at least 1 item'],
      [
        `format: deb\n${bootstrap}packages: build-essential\n`,
        'dists/testdist.yml line 4: field "packages" must be an array',
      ],
    ];
    for (const [text, expected] of cases) {
      const error = await rejection(distFrom(text));
      assert.equal(error.code, 'metadata-invalid', text);
      assert.ok(
        error.message.startsWith(expected),
        `${JSON.stringify(text)}\n  got:      ${error.message}\n  expected: ${expected}`,
      );
      assert.equal(error.context['file'], 'dists/testdist.yml');
    }
  });

  it('reports a dist that is not defined, and a malformed dist name', async () => {
    const repoDir = join(root, `repo-${++count}`);
    await mkdir(repoDir);
    const missing = await rejection(loadDist({ repoDir, name: 'trixie' }));
    assert.equal(missing.code, 'metadata-invalid');
    assert.equal(missing.message, 'dists/trixie.yml: dist "trixie" is not defined: the file does not exist');
    const malformed = await rejection(loadDist({ repoDir, name: '../etc/passwd' }));
    assert.equal(malformed.code, 'key-invalid');
    assert.deepEqual(await listDists(repoDir), []);
  });

  it('accepts the example dists', async () => {
    const names = await listDists(examplesRepo);
    assert.deepEqual(names, ['bookworm', 'rpm-bookworm']);
    const bookworm = await loadDist({ repoDir: examplesRepo, name: 'bookworm' });
    assert.equal(bookworm.format, 'deb');
    assert.equal(bookworm.base.kind, 'bootstrap');
    assert.ok(bookworm.packages.includes('build-essential'));
    const rpm = await loadDist({ repoDir: examplesRepo, name: 'rpm-bookworm' });
    assert.equal(rpm.format, 'rpm');
    assert.deepEqual(rpm.repositories, []);
    assert.ok(rpm.packages.includes('rpm'));
  });
});
