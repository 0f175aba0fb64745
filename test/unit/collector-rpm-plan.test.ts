import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { planRpmRepository, type RpmPackage } from '../../collector/rpm/index.ts';

function rpm(name: string, version: string, release: string, arch: string, epoch?: number): RpmPackage {
  return { path: `/in/${name}-${version}-${release}.${arch}.rpm`, name, version, release, arch, epoch };
}

describe('planRpmRepository', () => {
  it('puts binary rpms under their arch, noarch under noarch/ and source rpms under src/', () => {
    const plan = planRpmRepository([
      rpm('hello', '1.0', '1', 'x86_64'),
      rpm('hello-doc', '1.0', '1', 'noarch'),
      rpm('hello', '1.0', '1', 'src'),
      rpm('hello', '1.0', '1', 'aarch64'),
    ]);
    assert.deepEqual(
      plan.files.map((file) => file.target),
      [
        'aarch64/hello-1.0-1.aarch64.rpm',
        'noarch/hello-doc-1.0-1.noarch.rpm',
        'src/hello-1.0-1.src.rpm',
        'x86_64/hello-1.0-1.x86_64.rpm',
      ],
    );
    assert.deepEqual(plan.dropped, []);
  });

  it('keeps the newest K versions per name and arch, by rpm version order', () => {
    const packages = [
      rpm('hello', '1.9', '1', 'x86_64'),
      rpm('hello', '1.10', '1', 'x86_64'),
      rpm('hello', '1.10~rc1', '1', 'x86_64'),
      rpm('hello', '1.10', '2', 'x86_64'),
      rpm('hello', '1.9', '1', 'noarch'),
    ];
    const plan = planRpmRepository(packages, { keepVersions: 2 });
    assert.deepEqual(
      plan.files.map((file) => file.target),
      ['noarch/hello-1.9-1.noarch.rpm', 'x86_64/hello-1.10-1.x86_64.rpm', 'x86_64/hello-1.10-2.x86_64.rpm'],
    );
    assert.deepEqual(
      plan.dropped.map((pkg) => `${pkg.version}-${pkg.release}`),
      ['1.10~rc1-1', '1.9-1'],
    );
  });

  it('lets an epoch outrank a higher version', () => {
    const plan = planRpmRepository([rpm('tool', '9.0', '1', 'noarch'), rpm('tool', '1.0', '1', 'noarch', 1)], {
      keepVersions: 1,
    });
    assert.equal(plan.files.length, 1);
    assert.equal(plan.files[0]?.package.epoch, 1);
  });

  it('keeps the later of two packages with the same file name (a rebuild replaces the old file)', () => {
    const old = { ...rpm('hello', '1.0', '1', 'x86_64'), path: '/previous/x86_64/hello-1.0-1.x86_64.rpm' };
    const rebuilt = { ...rpm('hello', '1.0', '1', 'x86_64'), path: '/build/hello-1.0-1.x86_64.rpm' };
    const plan = planRpmRepository([old, rebuilt]);
    assert.deepEqual(
      plan.files.map((file) => file.package.path),
      ['/build/hello-1.0-1.x86_64.rpm'],
    );
    assert.deepEqual(plan.dropped, [old]);
  });

  it('rejects fields that would escape the arch directory', () => {
    for (const bad of [
      rpm('../etc', '1', '1', 'noarch'),
      rpm('a', '1/2', '1', 'noarch'),
      rpm('a', '1', '1', ''),
      rpm('a', '1', '1', '..'),
    ]) {
      assert.throws(
        () => planRpmRepository([bad]),
        (error: unknown) => isBuildfleetError(error, 'metadata-invalid'),
      );
    }
  });

  it('rejects a keepVersions below 1', () => {
    assert.throws(
      () => planRpmRepository([], { keepVersions: 0 }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid'),
    );
  });
});
