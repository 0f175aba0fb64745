import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrackedBuild } from '../../scheduler/core/tracked-build.ts';
import { buildRecord, decodeStateRecord, stateKey } from '../../scheduler/state/state-records.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';

const build: TrackedBuild = {
  buildId: '8d9a3c1e-2b4f-8e6a-9c7d-1f2e3a4b5c6d',
  buildKey: 'projects/demo/hello-deb@bookworm.x86_64',
  project: 'projects/demo/hello-deb',
  target: { dist: 'bookworm', arch: 'x86_64' },
  repoKey: 'projects/demo/bookworm',
  kind: 'deb',
  runnerGroup: 'default',
  sourceUrl: 'file:///srv/sources',
  commit: 'a'.repeat(40),
  submitId: 's-1',
  attempt: 2,
  phase: 'running',
  dispatched: true,
  leaseMs: 30_000,
  leaseUntil: 1_700_000_030_000,
  runnerId: 'runner-1',
  dispatchedAt: 1_700_000_000_000,
  cancelRequested: true,
  expiries: 1,
};

/**
 * Asserts that decoding throws message-invalid. The message of a record that fits none of the
 * union's members says only `/ Expected union value`, so no field is checked for here.
 */
function rejects(value: unknown): void {
  assert.throws(
    () => decodeStateRecord(value),
    (error: unknown) => {
      assert.ok(isBuildfleetError(error, 'message-invalid'), String(error));
      assert.match(error.message, /^scheduler state record: /);
      return true;
    },
  );
}

describe('decodeStateRecord', () => {
  it('accepts the three records the scheduler writes', () => {
    const record = buildRecord(build);
    assert.deepEqual(decodeStateRecord(JSON.parse(JSON.stringify(record))), record);
    const minimal: TrackedBuild = { ...build, phase: 'queued', attempt: 1, expiries: 0 };
    for (const key of ['leaseUntil', 'runnerId', 'dispatchedAt', 'cancelRequested'] as const) delete minimal[key];
    assert.deepEqual(decodeStateRecord(buildRecord(minimal)), buildRecord(minimal));

    const submit = { v: 1, type: 'scheduler.submit', submitId: 's-1', buildIds: [build.buildId] };
    assert.deepEqual(decodeStateRecord(submit), submit);
    const empty = { v: 1, type: 'scheduler.submit', submitId: 's-2', buildIds: [] };
    assert.deepEqual(decodeStateRecord(empty), empty);
    const cursor = { v: 1, type: 'scheduler.cursor', name: 'main', commit: 'b'.repeat(40) };
    assert.deepEqual(decodeStateRecord(cursor), cursor);
  });

  it('ignores fields it does not know', () => {
    const record = { v: 1, type: 'scheduler.cursor', name: 'main', commit: 'c'.repeat(40), extra: 1 };
    assert.deepEqual(decodeStateRecord(record), record);
  });

  it('copies the build into its record', () => {
    const copy = { ...build };
    const record = buildRecord(copy);
    copy.attempt = 9;
    assert.ok(record.type === 'scheduler.build');
    assert.equal(record.build.attempt, 2);
  });

  it('rejects records that are not one of the three', () => {
    rejects(null);
    rejects('build:x');
    rejects({ v: 2, type: 'scheduler.cursor', name: 'main', commit: 'x' });
    rejects({ v: 1, type: 'scheduler.lease', buildId: 'x' });
    rejects({ v: 1, type: 'scheduler.submit', submitId: 's-1' });
    rejects({ v: 1, type: 'scheduler.submit', submitId: '', buildIds: [] });
    rejects({ v: 1, type: 'scheduler.submit', submitId: 's-1', buildIds: [''] });
    rejects({ v: 1, type: 'scheduler.cursor', name: 'main' });
  });

  it('rejects a build record with a bad build', () => {
    const bad = (overrides: Record<string, unknown>) => ({
      v: 1,
      type: 'scheduler.build',
      build: { ...build, ...overrides },
    });
    rejects(bad({ attempt: 0 }));
    rejects(bad({ attempt: 1.5 }));
    rejects(bad({ phase: 'building' }));
    rejects(bad({ kind: 'tarball' }));
    rejects(bad({ expiries: -1 }));
    rejects(bad({ leaseMs: 0 }));
    rejects(bad({ dispatched: 'yes' }));
    rejects(bad({ target: { dist: 'bookworm' } }));
    rejects(bad({ buildId: '' }));
    rejects(bad({ runnerId: '' }));
    const { commit: _commit, ...withoutCommit } = build;
    rejects({ v: 1, type: 'scheduler.build', build: withoutCommit });
  });
});

describe('stateKey', () => {
  it('keys builds, submissions and cursors apart', () => {
    assert.equal(stateKey.build('b-1'), 'build:b-1');
    assert.equal(stateKey.submit('s-1'), 'submit:s-1');
    assert.equal(stateKey.cursor('main'), 'cursor:main');
  });
});
