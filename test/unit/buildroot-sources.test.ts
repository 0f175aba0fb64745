import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextManifest } from '../../collector/publish/manifest.ts';
import { depsKey } from '../../runner/buildroot/cache-keys.ts';
import { planInstall, watchInstallStep } from '../../runner/buildroot/install-plan.ts';
import {
  ownPackagesFromIndex,
  pinnedRelations,
  resolveOwnPackages,
  versionSatisfies,
} from '../../runner/buildroot/own-packages.ts';
import { ownRpmsFromPrimary, parseRpmRequirement, resolveOwnRpms } from '../../runner/buildroot/own-rpms.ts';
import { aptSourceLine, ownSourceLine, type PackageSources } from '../../runner/buildroot/package-sources.ts';
import type { BuildrootDist } from '../../runner/buildroot/types.ts';

const INDEX = `Package: libbfgreet1
Version: 1.0-1
Architecture: amd64
Depends: libc6 (>= 2.2.5)
Filename: pool/main/libb/libbfgreet/libbfgreet1_1.0-1_amd64.deb
Size: 2000
SHA256: ${'1'.repeat(64)}

Package: libbfgreet-dev
Version: 1.0-1
Architecture: amd64
Depends: libbfgreet1 (= 1.0-1)
Provides: bfgreet-api (= 1)
Filename: pool/main/libb/libbfgreet/libbfgreet-dev_1.0-1_amd64.deb
Size: 1000
SHA256: ${'2'.repeat(64)}

Package: libbfgreet-doc
Version: 1.0-1
Architecture: all
Filename: pool/main/libb/libbfgreet/libbfgreet-doc_1.0-1_all.deb
Size: 10
SHA256: ${'3'.repeat(64)}

Package: armonly
Version: 1
Architecture: arm64
Filename: pool/main/a/armonly/armonly_1_arm64.deb
Size: 10
SHA256: ${'4'.repeat(64)}
`;

const buildOf = {
  'pool/main/libb/libbfgreet/libbfgreet1_1.0-1_amd64.deb': 'b-lib',
  'pool/main/libb/libbfgreet/libbfgreet-dev_1.0-1_amd64.deb': 'b-lib',
};
const ours = ownPackagesFromIndex(INDEX, 'projects/greet/bookworm', buildOf);
const names = (relations: string[]): string[] =>
  resolveOwnPackages(relations, ours, 'amd64').map((p) => `${p.name} ${p.version}`);

describe('our own packages for a buildroot', () => {
  it('reads a Packages index with provides, depends and the build of each file', () => {
    assert.equal(ours.length, 4);
    const dev = ours.find((p) => p.name === 'libbfgreet-dev');
    assert.deepEqual(dev?.provides, [{ name: 'bfgreet-api', version: '1' }]);
    assert.deepEqual(dev?.depends, ['libbfgreet1 (= 1.0-1)']);
    assert.equal(dev?.buildId, 'b-lib');
    assert.equal(ours.find((p) => p.name === 'libbfgreet-doc')?.buildId, undefined);
  });

  it('takes what a relation needs and, recursively, the dependencies our packages satisfy', () => {
    assert.deepEqual(names(['debhelper-compat (= 13)', 'libbfgreet-dev']), [
      'libbfgreet-dev 1.0-1',
      'libbfgreet1 1.0-1',
    ]);
    assert.deepEqual(names(['libbfgreet-dev (>= 1.0)', 'libbfgreet-doc']), [
      'libbfgreet-dev 1.0-1',
      'libbfgreet-doc 1.0-1',
      'libbfgreet1 1.0-1',
    ]);
  });

  it('honours versions and provides, and leaves the rest to apt', () => {
    assert.deepEqual(names(['libbfgreet-dev (>= 2)']), []);
    assert.deepEqual(names(['libbfgreet-dev (<< 1.0-1)']), []);
    assert.deepEqual(names(['bfgreet-api (>= 1)']), ['libbfgreet-dev 1.0-1', 'libbfgreet1 1.0-1']);
    assert.deepEqual(names(['bfgreet-api (>= 2)']), []);
    assert.deepEqual(names(['libpopt-dev | libbfgreet1']), ['libbfgreet1 1.0-1']);
    assert.deepEqual(names(['armonly']), [], 'another arch');
    assert.deepEqual(names(['libnothere-dev']), []);
  });

  it('prefers the newest version and pins exactly what it chose', () => {
    const newer = ownPackagesFromIndex(INDEX.replaceAll('1.0-1', '1.1-1'), 'projects/other/bookworm');
    const chosen = resolveOwnPackages(['libbfgreet-dev'], [...ours, ...newer], 'amd64');
    assert.deepEqual(pinnedRelations(chosen), ['libbfgreet-dev (= 1.1-1)', 'libbfgreet1 (= 1.1-1)']);
    assert.equal(chosen[0]?.repoKey, 'projects/other/bookworm');
  });

  it('compares Debian versions for every operator', () => {
    assert.ok(versionSatisfies('1.0-1', '>=', '1.0'));
    assert.ok(versionSatisfies('1.0~rc1', '<<', '1.0'));
    assert.ok(versionSatisfies('1:0.1', '>>', '9.9'));
    assert.ok(!versionSatisfies('1.0', '>>', '1.0'));
    assert.ok(versionSatisfies('2', '=', '2'));
    assert.ok(versionSatisfies('1.0', '<=', '1.0'));
  });
});

describe('the dependency step', () => {
  const dist: BuildrootDist = {
    name: 'bookworm',
    format: 'deb',
    packages: [],
  } as unknown as BuildrootDist;

  it('names every unresolvable relation and who needs it', () => {
    const watch = watchInstallStep({ dist, neededBy: 'projects/greet/bfgreet' });
    watch.onLine('#5 1.2 buildfleet-unresolvable: libnothere-dev');
    watch.onLine('buildfleet-unresolvable: libbfgreet-dev (>= 2)');
    watch.onLine('Get:1 http://deb.debian.org bookworm InRelease');
    const error = watch.errorFor(new Error('step failed'));
    assert.equal(error?.code, 'dependency-unresolvable');
    assert.equal(error?.retriable, false);
    assert.match(
      error?.message ?? '',
      /^dependency-unresolvable: libnothere-dev, libbfgreet-dev \(>= 2\) needed by projects\/greet\/bfgreet /,
    );
  });

  it('names a repository apt could not verify, our own by its repo key', () => {
    const own = 'file:/tmp/buildfleet/sources/own/repo1';
    const watch = watchInstallStep({
      dist,
      neededBy: undefined,
      labels: new Map([[own, 'buildfleet repository projects/greet/bookworm']]),
    });
    watch.onLine('buildfleet-repository-failed: http://127.0.0.1:4000/extra E: The repository is not signed.');
    watch.onLine(`buildfleet-repository-failed: ${own} W: GPG error`);
    const error = watch.errorFor(undefined);
    assert.equal(error?.code, 'buildroot-failed');
    assert.match(error?.message ?? '', /http:\/\/127\.0\.0\.1:4000\/extra \(E: The repository is not signed\.\)/);
    assert.match(error?.message ?? '', /buildfleet repository projects\/greet\/bookworm \(W: GPG error\)/);
    assert.equal(watchInstallStep({ dist, neededBy: 'x' }).errorFor(undefined), undefined);
  });

  it('writes apt sources with signed-by', () => {
    assert.equal(
      aptSourceLine({ url: 'http://r/x', suite: 'stable', components: ['main', 'contrib'], keyFile: 'repo2.asc' }),
      'deb [signed-by=/etc/apt/keyrings/buildfleet/repo2.asc] http://r/x stable main contrib',
    );
    assert.equal(aptSourceLine({ url: 'http://r/x', suite: 's', components: ['main'] }), 'deb http://r/x s main');
    assert.equal(
      ownSourceLine({
        repoKey: 'projects/bookworm',
        dir: 'repo1',
        suite: 'bookworm',
        keyFile: 'b.asc',
        keySha256: 'k',
      }),
      'deb [signed-by=/etc/apt/keyrings/buildfleet/b.asc] file:/tmp/buildfleet/sources/own/repo1 bookworm main',
    );
  });

  it('keys the dependency layer by the sources, their keys and our exact packages', () => {
    const plan = planInstall({ ...dist, format: 'deb' }, ['libbfgreet-dev']);
    const sources = (version: string, sha: string, key = 'k1'): PackageSources => ({
      dir: '/nowhere',
      apt: [{ url: 'http://r/x', suite: 's', components: ['main'], keyFile: 'repo1.asc', keySha256: key }],
      own: [],
      packages: [{ name: 'libbfgreet-dev', version, sha256: sha, repoKey: 'projects/bookworm' }],
    });
    const key = depsKey(dist, 'sha256:base', plan, sources('1.0-1', 'aa'));
    assert.equal(depsKey(dist, 'sha256:base', plan, { ...sources('1.0-1', 'aa'), dir: '/elsewhere' }), key);
    assert.notEqual(depsKey(dist, 'sha256:base', plan, sources('1.1-1', 'aa')), key);
    assert.notEqual(depsKey(dist, 'sha256:base', plan, sources('1.0-1', 'bb')), key);
    assert.notEqual(depsKey(dist, 'sha256:base', plan, sources('1.0-1', 'aa', 'k2')), key);
    assert.notEqual(depsKey(dist, 'sha256:base', plan), key);
  });
});

describe('repository manifest', () => {
  it('remembers the build of every package file, and keeps those of earlier versions', () => {
    const first = nextManifest(
      { builds: [], files: [] },
      ['b1'],
      ['pool/main/l/lib/lib1_1_amd64.deb'],
      new Map([['lib1_1_amd64.deb', 'b1']]),
    );
    assert.deepEqual(first.buildOf, { 'pool/main/l/lib/lib1_1_amd64.deb': 'b1' });
    const second = nextManifest(
      first,
      ['b2'],
      ['pool/main/a/app/app_1_amd64.deb', 'pool/main/l/lib/lib1_1_amd64.deb', 'pool/main/o/old/old_1_all.deb'],
      new Map([['app_1_amd64.deb', 'b2']]),
    );
    assert.deepEqual(second.buildOf, {
      'pool/main/a/app/app_1_amd64.deb': 'b2',
      'pool/main/l/lib/lib1_1_amd64.deb': 'b1',
    });
  });
});

describe('our own rpms for an rpm buildroot', () => {
  const entry = (name: string, ver?: string, rel?: string): string =>
    ver === undefined
      ? `<rpm:entry name="${name}"/>`
      : `<rpm:entry name="${name}" flags="EQ" epoch="0" ver="${ver}"${rel === undefined ? '' : ` rel="${rel}"`}/>`;
  const pkg = (name: string, ver: string, provides: string[], requires: string[], arch = 'x86_64'): string =>
    `<package type="rpm"><name>${name}</name><arch>${arch}</arch><version epoch="0" ver="${ver}" rel="1"/>` +
    `<checksum type="sha256" pkgid="YES">${'a'.repeat(64)}</checksum><size package="10" installed="1" archive="1"/>` +
    `<location href="${name}-${ver}-1.${arch}.rpm"/><format><rpm:provides>${provides.join('')}</rpm:provides>` +
    `<rpm:requires>${requires.join('')}</rpm:requires></format></package>`;
  const primary = `<?xml version="1.0"?><metadata packages="4">${[
    pkg(
      'libbfgreet',
      '1.0',
      [entry('libbfgreet', '1.0', '1'), entry('libbfgreet.so.1()(64bit)')],
      [entry('rtld(GNU_HASH)')],
    ),
    pkg(
      'libbfgreet-devel',
      '1.0',
      [entry('bfgreet-api', '1'), entry('libbfgreet-devel', '1.0', '1')],
      [entry('libbfgreet', '1.0', '1')],
    ),
    pkg('libbfgreet', '1.0', [], [], 'src'),
    pkg('other', '3', [], [], 'aarch64'),
  ].join('')}</metadata>`;
  const rpms = ownRpmsFromPrimary(primary, 'projects/greet/rpm-bookworm', { 'libbfgreet-1.0-1.x86_64.rpm': 'b1' });

  it('reads primary.xml without source rpms', () => {
    assert.deepEqual(
      rpms.map((r) => `${r.name} ${r.version} ${r.arch} ${r.buildId ?? '-'}`),
      ['libbfgreet 1.0-1 x86_64 b1', 'libbfgreet-devel 1.0-1 x86_64 -', 'other 3-1 aarch64 -'],
    );
  });

  it('resolves BuildRequires by name and provides, versions honoured, with what they require', () => {
    const names = (requirements: string[]) => {
      const { chosen, satisfied } = resolveOwnRpms(requirements, rpms, 'x86_64');
      return { chosen: chosen.map((r) => r.name), satisfied };
    };
    assert.deepEqual(names(['gcc', 'libbfgreet-devel >= 1.0']), {
      chosen: ['libbfgreet', 'libbfgreet-devel'],
      satisfied: ['libbfgreet-devel >= 1.0'],
    });
    assert.deepEqual(names(['bfgreet-api = 1']).chosen, ['libbfgreet', 'libbfgreet-devel']);
    assert.deepEqual(names(['libbfgreet-devel >= 2', 'bfgreet-api > 1', 'other']), { chosen: [], satisfied: [] });
    assert.deepEqual(names(['libbfgreet-devel = 1.0-1']).satisfied, ['libbfgreet-devel = 1.0-1']);
    assert.deepEqual(parseRpmRequirement('foo >= 1:2.0-3'), {
      name: 'foo',
      flags: 'GE',
      evr: { epoch: 1, version: '2.0', release: '3' },
    });
  });
});
