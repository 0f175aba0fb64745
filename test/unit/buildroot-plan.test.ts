import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { baseImageTag, chrootTreeName, depsImageTag, imageNamePart } from '../../runner/buildroot/cache-keys.ts';
import { chrootCommand } from '../../runner/buildroot/chroot-enter.ts';
import { planInstall, relationNames } from '../../runner/buildroot/install-plan.ts';
import { compileLimits } from '../../runner/buildroot/run-settings.ts';
import type { BuildrootDist } from '../../runner/buildroot/types.ts';
import { splitReference } from '../../runner/engine/dockerode-engine.ts';

const bootstrap = { suite: 'bookworm', mirror: 'http://deb.debian.org/debian' };
const bookworm: BuildrootDist = { name: 'bookworm', format: 'deb', base: { kind: 'bootstrap', ...bootstrap } };

describe('install plan', () => {
  it('adds the format tools and the dist packages, splits fields, drops duplicates and sorts', () => {
    const plan = planInstall({ ...bookworm, packages: ['ca-certificates'] }, [
      'libpopt-dev, debhelper-compat (= 13)',
      'libpopt-dev',
      'default-jdk | openjdk-17-jdk',
      '  zlib1g-dev   [amd64]  ',
    ]);
    assert.deepEqual(plan.relations, [
      'build-essential',
      'ca-certificates',
      'debhelper-compat (= 13)',
      'default-jdk | openjdk-17-jdk',
      'dpkg-dev',
      'fakeroot',
      'libpopt-dev',
      'zlib1g-dev [amd64]',
    ]);
    assert.deepEqual(plan.nameGroups[3], ['default-jdk', 'openjdk-17-jdk']);
  });

  it('gives rpm dists Debian rpm only', () => {
    assert.deepEqual(planInstall({ ...bookworm, format: 'rpm' }, ['make']).relations, ['make', 'rpm']);
  });

  it('rejects what is not a Debian relation, naming every one, not retriable', () => {
    assert.throws(
      () => planInstall(bookworm, ['pkgconfig(zlib)', 'make >= 4.0', 'gcc', '/usr/bin/perl']),
      (error) => {
        assert.ok(isBuildfleetError(error, 'buildroot-failed'));
        assert.equal(error.retriable, false);
        assert.deepEqual(error.context['invalid'], ['pkgconfig(zlib)', 'make >= 4.0', '/usr/bin/perl']);
        return true;
      },
    );
  });

  it('reads names from relations with versions, arch qualifiers, arch lists and profiles', () => {
    assert.deepEqual(relationNames('libc6-dev:amd64 (>= 2.36) [linux-any] <!nocheck>'), ['libc6-dev']);
    assert.deepEqual(relationNames('aa|bb (<< 2)'), ['aa', 'bb']);
    assert.equal(relationNames('a'), undefined, 'Debian package names have two characters or more');
    assert.equal(relationNames('Capital'), undefined);
  });
});

describe('cache keys', () => {
  const plan = planInstall(bookworm, ['libpopt-dev']);

  it('keys base images by the bootstrap settings with defaults applied', () => {
    const tag = baseImageTag(bootstrap);
    assert.match(tag, /^buildfleet\/base-bookworm:[0-9a-f]{24}$/);
    assert.equal(baseImageTag({ ...bootstrap, mirror: 'http://deb.debian.org/debian/', variant: 'minbase' }), tag);
    assert.notEqual(baseImageTag({ ...bootstrap, variant: 'buildd' }), tag);
    assert.notEqual(baseImageTag({ ...bootstrap, components: ['main', 'contrib'] }), tag);
  });

  it('keys dependency images by base id, dist and the sorted relations', () => {
    const tag = depsImageTag(bookworm, 'sha256:aa', plan);
    assert.match(tag, /^buildfleet\/deps-bookworm:[0-9a-f]{64}$/);
    assert.equal(depsImageTag(bookworm, 'sha256:aa', planInstall(bookworm, ['libpopt-dev', 'libpopt-dev'])), tag);
    assert.notEqual(depsImageTag(bookworm, 'sha256:bb', plan), tag);
    assert.notEqual(depsImageTag(bookworm, 'sha256:aa', planInstall(bookworm, ['libpopt0'])), tag);
    assert.notEqual(depsImageTag({ ...bookworm, name: 'other' }, 'sha256:aa', plan), tag);
    assert.match(chrootTreeName(bookworm, plan), /^bookworm-[0-9a-f]{64}$/);
  });

  it('makes valid image name parts', () => {
    assert.equal(imageNamePart('Bookworm_Backports'), 'bookworm_backports');
    assert.equal(imageNamePart('el 9 / x'), 'el-9-x');
    assert.equal(imageNamePart('--'), 'dist');
  });

  it('splits image references', () => {
    assert.deepEqual(splitReference('buildfleet/base-bookworm:abc'), { repo: 'buildfleet/base-bookworm', tag: 'abc' });
    assert.deepEqual(splitReference('localhost:5000/a/b'), { repo: 'localhost:5000/a/b', tag: 'latest' });
  });
});

describe('run settings', () => {
  it('fills defaults and converts units', () => {
    assert.deepEqual(compileLimits({ memoryMb: 512 }), {
      memoryBytes: 512 * 1024 * 1024,
      pids: 4096,
      cpus: undefined,
      timeoutMs: 7_200_000,
    });
  });

  it('names the bad key', () => {
    assert.throws(
      () => compileLimits({ pids: 0 }),
      (error) => {
        assert.ok(isBuildfleetError(error, 'config-invalid'));
        assert.equal(error.context['key'], 'limits.pids');
        return true;
      },
    );
  });

  it('passes chroot values as arguments and the build environment through env -i', () => {
    const command = chrootCommand({
      root: '/t/root',
      overlay: { lower: '/cache/tree', upper: '/t/upper', work: '/t/work' },
      workdir: '/w; rm -rf /',
      outDir: '/o',
      uid: 1000,
      gid: 1000,
      network: false,
      env: { HOME: '/home/builder' },
      cmd: ['make', 'all'],
      procsFiles: ['/sys/fs/cgroup/pids/buildfleet/x/cgroup.procs'],
    });
    assert.equal(command.file, '/bin/sh');
    assert.deepEqual(command.args.slice(2), [
      'buildfleet-chroot',
      '/t/root',
      '/w; rm -rf /',
      '/o',
      '1000:1000',
      'none',
      '/cache/tree',
      '/t/upper',
      '/t/work',
      '/usr/bin/env',
      '-i',
      'HOME=/home/builder',
      'make',
      'all',
    ]);
    assert.equal(command.env['BUILDFLEET_CGROUP_PROCS'], '/sys/fs/cgroup/pids/buildfleet/x/cgroup.procs');
  });
});
