import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareDebianVersions,
  parseDebianVersion,
  planAptRepository,
  poolDirectory,
  type AptBinaryPackage,
} from '../../collector/apt/index.ts';

describe('compareDebianVersions', () => {
  // Pairs in ascending order, checked against `dpkg --compare-versions` semantics (deb-version(7)).
  const ascending: Array<[string, string]> = [
    ['1.0', '1.1'],
    ['1.0~rc1', '1.0'],
    ['1.0~~', '1.0~'],
    ['1.0', '1.0a'],
    ['1.0a', '1.0+b1'],
    ['1.0-1', '1.0-2'],
    ['1.0-9', '1.0-10'],
    ['1.9', '1.10'],
    ['1.0', '1.0-1'],
    ['2.0', '1:0.1'],
    ['1:1.0', '2:0.1'],
    ['1.0-1', '1.0.1-1'],
    ['0.9', '0.10~beta'],
    ['1.0+dfsg-1', '1.0+dfsg1-1'],
    ['a', 'b'],
  ];
  for (const [lower, higher] of ascending) {
    it(`${lower} < ${higher}`, () => {
      assert.ok(compareDebianVersions(lower, higher) < 0);
      assert.ok(compareDebianVersions(higher, lower) > 0);
    });
  }
  it('treats leading zeros, a zero epoch and a zero revision as equal', () => {
    assert.equal(compareDebianVersions('1.01', '1.1'), 0);
    assert.equal(compareDebianVersions('0:1.0', '1.0'), 0);
    assert.equal(compareDebianVersions('1.0-0', '1.0'), 0);
  });
  it('splits epoch, upstream and the revision after the last dash', () => {
    assert.deepEqual(parseDebianVersion('2:1.0-rc-3'), { epoch: 2, upstream: '1.0-rc', revision: '3' });
    assert.throws(() => parseDebianVersion('x:1.0'), /bad epoch/);
  });
});

describe('planAptRepository', () => {
  const deb = (name: string, version: string, arch = 'amd64', source?: string): AptBinaryPackage => ({
    path: `/in/${name}_${version}_${arch}.deb`,
    name,
    version,
    arch,
    ...(source === undefined ? {} : { source }),
  });

  it('puts files under pool/main/<prefix>/<source>/ with lib* sources under libx/', () => {
    assert.equal(poolDirectory('hello'), 'pool/main/h/hello');
    assert.equal(poolDirectory('libfoo'), 'pool/main/libf/libfoo');
    const plan = planAptRepository({ binaries: [deb('libfoo1', '1:2.0-1', 'amd64', 'libfoo')] });
    assert.deepEqual(plan.pool, [
      { from: '/in/libfoo1_1:2.0-1_amd64.deb', to: 'pool/main/libf/libfoo/libfoo1_2.0-1_amd64.deb' },
    ]);
  });

  it('keeps the last K versions in the pool, newest by Debian order, and indexes only the newest', () => {
    const versions = ['1.9', '1.10', '1.10~rc1', '1.2', '1:0.1'];
    const plan = planAptRepository({ binaries: versions.map((v) => deb('hello', v)), keepVersions: 2 });
    assert.deepEqual(
      plan.pool.map((file) => file.to),
      ['pool/main/h/hello/hello_0.1_amd64.deb', 'pool/main/h/hello/hello_1.10_amd64.deb'],
    );
    assert.deepEqual(plan.binaryIndex.get('amd64'), [
      { from: '/in/hello_1:0.1_amd64.deb', to: 'pool/main/h/hello/hello_0.1_amd64.deb' },
    ]);
    assert.deepEqual(
      plan.dropped.map((d) => d.version),
      ['1.10~rc1', '1.9', '1.2'],
    );
  });

  it('keeps versions per architecture and lists arch all packages in every binary index', () => {
    const plan = planAptRepository({
      binaries: [deb('hello', '1.0', 'amd64'), deb('hello', '1.1', 'arm64'), deb('hello-doc', '1.0', 'all')],
    });
    assert.deepEqual(plan.architectures, ['amd64', 'arm64']);
    assert.deepEqual(
      plan.binaryIndex.get('amd64')?.map((f) => f.to),
      ['pool/main/h/hello/hello_1.0_amd64.deb', 'pool/main/h/hello-doc/hello-doc_1.0_all.deb'],
    );
    assert.deepEqual(
      plan.binaryIndex.get('arm64')?.map((f) => f.to),
      ['pool/main/h/hello/hello_1.1_arm64.deb', 'pool/main/h/hello-doc/hello-doc_1.0_all.deb'],
    );
  });

  it('lets the last of two uploads of the same version win', () => {
    const first = deb('hello', '1.0');
    const rebuild = { ...first, path: '/rebuild/hello.deb' };
    const plan = planAptRepository({ binaries: [first, rebuild] });
    assert.deepEqual(plan.pool, [{ from: '/rebuild/hello.deb', to: 'pool/main/h/hello/hello_1.0_amd64.deb' }]);
  });

  it('places source packages with their files and indexes the newest source version', () => {
    const plan = planAptRepository({
      binaries: [],
      sources: [
        { dscPath: '/in/hello_1.0.dsc', name: 'hello', version: '1.0', files: ['/in/hello_1.0.tar.xz'] },
        { dscPath: '/in/hello_1.1.dsc', name: 'hello', version: '1.1', files: ['/in/hello_1.1.tar.xz'] },
      ],
      keepVersions: 1,
    });
    assert.deepEqual(plan.architectures, ['all']);
    assert.deepEqual(
      plan.pool.map((f) => f.to),
      ['pool/main/h/hello/hello_1.1.dsc', 'pool/main/h/hello/hello_1.1.tar.xz'],
    );
    assert.deepEqual(
      plan.sourceIndex.map((files) => files.map((f) => f.to)),
      [['pool/main/h/hello/hello_1.1.dsc', 'pool/main/h/hello/hello_1.1.tar.xz']],
    );
  });

  it('refuses a retention below one version', () => {
    assert.throws(() => planAptRepository({ binaries: [], keepVersions: 0 }), RangeError);
  });
});
