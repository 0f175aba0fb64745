import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildIdOf } from '../../scheduler/core/build-id.ts';
import { BuildTable, type BuildTableOptions, type ResolvedSubmit } from '../../scheduler/core/build-table.ts';
import type { SchedulerEffect } from '../../scheduler/core/effects.ts';
import type { TrackedBuild } from '../../scheduler/core/tracked-build.ts';
import type { BuildEvent, BuildState, BuildSubmit, Target } from '../../shared/messages/index.ts';
import { eventOf } from '../fixtures/messages.ts';

const PROJECT = 'projects/demo/hello-deb';
const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);
const SOURCES = 'file:///srv/sources';
const BOOKWORM: Target = { dist: 'bookworm', arch: 'x86_64' };
const TRIXIE: Target = { dist: 'trixie', arch: 'aarch64' };
const KEY_BOOKWORM = `${PROJECT}@bookworm.x86_64`;
const KEY_TRIXIE = `${PROJECT}@trixie.aarch64`;
const LEASE_MS = 30_000;
const T0 = 1_000_000;

function tableOf(options: Partial<BuildTableOptions> = {}): BuildTable {
  return new BuildTable({ leaseMs: LEASE_MS, maxAttempts: 3, ...options });
}

function submitOf(submitId: string, project = PROJECT): BuildSubmit {
  return { v: 1, type: 'build.submit', submitId, project };
}

function resolvedAt(commit: string, targets: Target[] = [BOOKWORM, TRIXIE]): ResolvedSubmit {
  return {
    commit,
    sourceUrl: SOURCES,
    targets: targets.map((target) => ({ target, kind: 'deb', runnerGroup: 'default' })),
  };
}

/** An event as a runner publishes it for the build's current attempt (unless `extra` says otherwise). */
function runnerEvent(build: TrackedBuild, state: BuildState, extra: Partial<BuildEvent> = {}): BuildEvent {
  const source = { service: 'runner', instance: 'runner-1' };
  return eventOf(build, state, new Date(T0).toISOString(), source, { runnerId: 'runner-1', ...extra });
}

/**
 * Asserts that `effects` persist `build` and dispatch it again for `reason`, and that the build is
 * queued again as `attempt`, undispatched, with no runner and no lease, after `expiries` lease expiries.
 */
function assertDispatchedAgain(
  effects: SchedulerEffect[],
  build: TrackedBuild,
  expected: { reason: string; attempt: number; expiries: number },
): void {
  assert.deepEqual(summary(effects), [`persist-build ${build.buildId}`, `dispatch ${build.buildId}`]);
  const dispatch = effects[1];
  assert.ok(dispatch?.type === 'dispatch');
  assert.equal(dispatch.reason, expected.reason);
  assert.equal(build.attempt, expected.attempt);
  assert.equal(build.phase, 'queued');
  assert.equal(build.dispatched, false);
  assert.equal(build.leaseUntil, undefined);
  assert.equal(build.runnerId, undefined);
  assert.equal(build.expiries, expected.expiries, 'lease expiries');
}

/** The effects in a form that compares well: type plus what tells them apart. */
function summary(effects: SchedulerEffect[]): string[] {
  return effects.map((effect) => {
    switch (effect.type) {
      case 'persist-build':
        return `persist-build ${effect.build.buildId}`;
      case 'persist-submit':
        return `persist-submit ${effect.submitId} [${effect.buildIds.join(',')}]`;
      case 'persist-rebuild':
        return `persist-rebuild ${effect.buildKey} ${effect.number}`;
      case 'event':
        return `event ${effect.state} ${effect.build.buildId}${effect.submitId ? ` ${effect.submitId}` : ''}`;
      case 'dispatch':
        return `dispatch ${effect.build.buildId}`;
      case 'cancel':
        return `cancel ${effect.buildId} ${effect.reason}`;
      default: {
        const unknown: never = effect;
        throw new Error(`unknown effect ${JSON.stringify(unknown)}`);
      }
    }
  });
}

function tracked(table: BuildTable, buildId: string | undefined): TrackedBuild {
  assert.ok(buildId, 'a buildId');
  const build = table.get(buildId);
  assert.ok(build, `build ${buildId} is tracked`);
  return build;
}

/** A table holding one build of KEY_BOOKWORM at COMMIT_A, dispatched and claimed by runner-1 at T0. */
function runningBuild(options: Partial<BuildTableOptions> = {}): { table: BuildTable; build: TrackedBuild } {
  const table = tableOf(options);
  const [buildId] = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A, [BOOKWORM])).buildIds;
  const build = tracked(table, buildId);
  table.dispatched(build.buildId, 1, false, T0);
  table.onEvent(runnerEvent(build, 'claimed', { leaseMs: LEASE_MS }), T0);
  assert.equal(build.phase, 'running');
  return { table, build };
}

describe('buildIdOf', () => {
  it('is a UUID derived from submitId and build key only', () => {
    const id = buildIdOf('s-1', KEY_BOOKWORM);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(buildIdOf('s-1', KEY_BOOKWORM), id, 'deterministic');
    assert.notEqual(buildIdOf('s-2', KEY_BOOKWORM), id);
    assert.notEqual(buildIdOf('s-1', KEY_TRIXIE), id);
  });
});

describe('BuildTable.submit', () => {
  it('gives a new submission one build per target, with effects in order: state, then events and requests', () => {
    const table = tableOf();
    const { buildIds, effects } = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A), T0);
    const [bookworm, trixie] = [buildIdOf('s-1', KEY_BOOKWORM), buildIdOf('s-1', KEY_TRIXIE)];
    assert.deepEqual(buildIds, [bookworm, trixie]);
    assert.deepEqual(summary(effects), [
      `persist-submit s-1 [${bookworm},${trixie}]`,
      `persist-build ${bookworm}`,
      `persist-build ${trixie}`,
      `event submitted ${bookworm} s-1`,
      `dispatch ${bookworm}`,
      `event submitted ${trixie} s-1`,
      `dispatch ${trixie}`,
    ]);
    assert.deepEqual(tracked(table, trixie), {
      buildId: trixie,
      buildKey: KEY_TRIXIE,
      project: PROJECT,
      target: TRIXIE,
      repoKey: 'projects/demo/trixie',
      kind: 'deb',
      runnerGroup: 'default',
      sourceUrl: SOURCES,
      commit: COMMIT_A,
      submitId: 's-1',
      attempt: 1,
      phase: 'queued',
      dispatched: false,
      leaseMs: LEASE_MS,
      expiries: 0,
      createdAt: T0,
    });
    assert.equal(table.size, 2);
    assert.deepEqual(table.submitted('s-1'), buildIds);
    assert.deepEqual(
      table.undispatched().map((b) => b.buildId),
      buildIds,
    );
    assert.deepEqual(table.phases(), { blocked: 0, waiting: 0, queued: 2, running: 0 });
  });

  it('handles the same submitId again as the same submission: same buildIds, only undispatched ones re-dispatched', () => {
    const table = tableOf();
    const first = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A));
    const [published, unpublished] = first.buildIds;
    assert.ok(published && unpublished);
    table.dispatched(published, 1, false, T0);
    // The shell does not resolve a known submission again; even a different resolution changes nothing.
    const again = table.submit(submitOf('s-1'), resolvedAt(COMMIT_B));
    assert.deepEqual(again.buildIds, first.buildIds);
    assert.deepEqual(summary(again.effects), [`dispatch ${unpublished}`]);
    assert.equal(table.size, 2);
    assert.equal(tracked(table, unpublished).commit, COMMIT_A);

    table.dispatched(unpublished, 1, false, T0);
    assert.deepEqual(table.submit(submitOf('s-1'), resolvedAt(COMMIT_A)).effects, []);
  });

  it('reuses a queued or running build of the same key and commit, telling `submitted` with the new submitId', () => {
    const { table, build } = runningBuild();
    const queued = table.submit(submitOf('s-q'), resolvedAt(COMMIT_A, [TRIXIE])).buildIds[0];
    assert.ok(queued);

    const { buildIds, effects } = table.submit(submitOf('s-2'), resolvedAt(COMMIT_A));
    assert.deepEqual(buildIds, [build.buildId, queued]);
    assert.deepEqual(summary(effects), [
      `persist-submit s-2 [${build.buildId},${queued}]`,
      `event submitted ${build.buildId} s-2`,
      `event submitted ${queued} s-2`,
    ]);
    assert.equal(table.size, 2);
    assert.equal(build.phase, 'running', 'the running build goes on untouched');
    assert.equal(build.submitId, 's-1', 'the build keeps the submission that made it');
    assert.deepEqual(table.submitted('s-2'), buildIds);
  });

  it('supersedes a build of the same key at another commit: superseded event, cancel, then the new build', () => {
    const { table, build: old } = runningBuild();
    const { buildIds, effects } = table.submit(submitOf('s-2'), resolvedAt(COMMIT_B, [BOOKWORM]));
    const fresh = buildIdOf('s-2', KEY_BOOKWORM);
    assert.deepEqual(buildIds, [fresh]);
    assert.deepEqual(summary(effects), [
      `persist-submit s-2 [${fresh}]`,
      `persist-build ${old.buildId}`,
      `persist-build ${fresh}`,
      `event superseded ${old.buildId}`,
      `cancel ${old.buildId} superseded`,
      `event submitted ${fresh} s-2`,
      `dispatch ${fresh}`,
    ]);
    const superseded = effects.find((e) => e.type === 'event' && e.state === 'superseded');
    assert.ok(superseded?.type === 'event');
    assert.match(superseded.reason ?? '', new RegExp(`commit ${COMMIT_B.slice(0, 12)} .*${fresh}`));
    assert.equal(old.phase, 'done');
    assert.equal(table.get(old.buildId), undefined);
    assert.equal(tracked(table, fresh).commit, COMMIT_B);
    assert.equal(table.size, 1);
    // Late events of the superseded build change nothing.
    assert.deepEqual(table.onEvent(runnerEvent(old, 'cancelled'), T0), []);
    assert.equal(table.size, 1);
  });

  it('decides per target: one reused, one new', () => {
    const { table, build } = runningBuild();
    const { buildIds, effects } = table.submit(submitOf('s-2'), resolvedAt(COMMIT_A));
    const trixie = buildIdOf('s-2', KEY_TRIXIE);
    assert.deepEqual(buildIds, [build.buildId, trixie]);
    assert.deepEqual(summary(effects), [
      `persist-submit s-2 [${build.buildId},${trixie}]`,
      `persist-build ${trixie}`,
      `event submitted ${build.buildId} s-2`,
      `event submitted ${trixie} s-2`,
      `dispatch ${trixie}`,
    ]);
  });

  it('forgets the oldest submissions beyond rememberSubmits', () => {
    const table = tableOf({ rememberSubmits: 2 });
    for (const id of ['s-1', 's-2', 's-3']) table.submit(submitOf(id, `projects/demo/${id}`), resolvedAt(COMMIT_A));
    assert.equal(table.submitted('s-1'), undefined);
    assert.ok(table.submitted('s-2'));
    assert.ok(table.submitted('s-3'));
    // Forgotten is safe while the build is active: the same key at the same commit is reused.
    const again = table.submit(submitOf('s-1', 'projects/demo/s-1'), resolvedAt(COMMIT_A, [BOOKWORM]));
    assert.deepEqual(again.buildIds, [buildIdOf('s-1', 'projects/demo/s-1@bookworm.x86_64')]);
    assert.equal(
      again.effects.some((e) => e.type === 'dispatch'),
      false,
    );
    assert.equal(table.submitted('s-2'), undefined, 's-1 is remembered again, s-2 is now the oldest');
  });
});

describe('BuildTable dispatch and waiting', () => {
  it('marks the current attempt dispatched, queued or waiting for a runner', () => {
    const table = tableOf();
    const [a, b] = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A)).buildIds;
    assert.ok(a && b);
    const queued = table.dispatched(a, 1, false, T0);
    assert.equal(queued?.phase, 'queued');
    assert.equal(queued.dispatched, true);
    assert.equal(queued.dispatchedAt, T0);

    const waiting = table.dispatched(b, 1, true, T0 + 5);
    assert.equal(waiting?.phase, 'waiting');
    assert.deepEqual(
      table.waiting().map((w) => w.buildId),
      [b],
    );
    assert.deepEqual(table.phases(), { blocked: 0, waiting: 1, queued: 1, running: 0 });
    assert.deepEqual(table.undispatched(), []);

    assert.equal(table.runnerAppeared(a), undefined, 'not waiting');
    assert.equal(table.runnerAppeared(b)?.phase, 'queued');
    assert.equal(table.runnerAppeared(b), undefined, 'told once');
    assert.deepEqual(table.waiting(), []);
  });

  it('ignores a dispatch of another attempt or an unknown build', () => {
    const table = tableOf();
    const [a] = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A, [BOOKWORM])).buildIds;
    assert.ok(a);
    assert.equal(table.dispatched(a, 2, false, T0), undefined);
    assert.equal(tracked(table, a).dispatched, false);
    assert.equal(table.dispatched('nope', 1, false, T0), undefined);
    assert.equal(table.runnerAppeared('nope'), undefined);
  });

  it('keeps a build running when its claim was seen before the dispatch was recorded', () => {
    const table = tableOf();
    const [a] = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A, [BOOKWORM])).buildIds;
    const build = tracked(table, a);
    table.onEvent(runnerEvent(build, 'claimed', { leaseMs: 1000 }), T0);
    assert.equal(table.dispatched(build.buildId, 1, true, T0)?.phase, 'running');
    assert.equal(build.dispatched, true);
  });
});

describe('BuildTable.onEvent', () => {
  it('claimed makes the build running with a lease from leaseMs; heartbeats renew it', () => {
    const table = tableOf();
    const [a] = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A, [BOOKWORM])).buildIds;
    const build = tracked(table, a);
    table.dispatched(build.buildId, 1, false, T0);

    const claimed = table.onEvent(runnerEvent(build, 'claimed', { leaseMs: 10_000 }), T0 + 100);
    assert.deepEqual(summary(claimed), [`persist-build ${build.buildId}`]);
    assert.equal(build.phase, 'running');
    assert.equal(build.runnerId, 'runner-1');
    assert.equal(build.leaseUntil, T0 + 100 + 10_000);
    assert.deepEqual(table.phases(), { blocked: 0, waiting: 0, queued: 0, running: 1 });

    assert.deepEqual(table.onEvent(runnerEvent(build, 'heartbeat', { leaseMs: 10_000 }), T0 + 5000), []);
    assert.equal(build.leaseUntil, T0 + 5000 + 10_000, 'renewed, nothing to persist');
    assert.deepEqual(table.onEvent(runnerEvent(build, 'building'), T0 + 6000), []);
    assert.equal(build.leaseUntil, T0 + 6000 + LEASE_MS, "without leaseMs the build's own lease is used");
    assert.deepEqual(table.expireLeases(T0 + 6000 + LEASE_MS - 1), []);
  });

  it('persists a change of runner', () => {
    const { table, build } = runningBuild();
    const moved = table.onEvent(runnerEvent(build, 'heartbeat', { runnerId: 'runner-2' }), T0 + 1);
    assert.deepEqual(summary(moved), [`persist-build ${build.buildId}`]);
    assert.equal(build.runnerId, 'runner-2');
  });

  it("ignores events of another attempt, the scheduler's own events and unknown builds", () => {
    const { table, build } = runningBuild();
    table.expireLeases(T0 + LEASE_MS);
    assert.equal(build.attempt, 2);
    assert.equal(build.phase, 'queued');
    for (const state of ['claimed', 'heartbeat', 'failed', 'cancelled'] as const) {
      assert.deepEqual(table.onEvent(runnerEvent(build, state, { attempt: 1 }), T0 + LEASE_MS + 1), [], state);
    }
    assert.equal(build.phase, 'queued');
    assert.equal(build.leaseUntil, undefined);

    const own = runnerEvent(build, 'failed', { source: { service: 'scheduler', instance: 'scheduler-1' } });
    assert.deepEqual(table.onEvent(own, T0), []);
    assert.deepEqual(table.onEvent({ ...runnerEvent(build, 'succeeded'), buildId: 'nope' }, T0), []);
    assert.deepEqual(
      table.onEvent(runnerEvent(build, 'published', { source: { service: 'collector', instance: 'c' } }), T0),
      [],
    );
    assert.ok(table.get(build.buildId), 'still active');
  });

  it('succeeded of the current attempt ends the build', () => {
    const { table, build } = runningBuild();
    assert.deepEqual(summary(table.onEvent(runnerEvent(build, 'succeeded'), T0 + 1)), [
      `persist-build ${build.buildId}`,
    ]);
    assert.equal(build.phase, 'done');
    assert.equal(build.leaseUntil, undefined);
    assert.equal(table.get(build.buildId), undefined);
    assert.deepEqual(table.expireLeases(T0 + 10 * LEASE_MS), []);
  });

  it('succeeded of an earlier attempt ends the build and cancels the running later attempt', () => {
    const { table, build } = runningBuild();
    table.expireLeases(T0 + LEASE_MS);
    table.dispatched(build.buildId, 2, false, T0 + LEASE_MS);
    table.onEvent(runnerEvent(build, 'claimed', { runnerId: 'runner-2', leaseMs: LEASE_MS }), T0 + LEASE_MS + 1);
    assert.equal(build.phase, 'running');

    const effects = table.onEvent(runnerEvent(build, 'succeeded', { attempt: 1 }), T0 + LEASE_MS + 2);
    assert.deepEqual(summary(effects), [
      `persist-build ${build.buildId}`,
      `cancel ${build.buildId} an earlier attempt succeeded`,
    ]);
    assert.equal(table.get(build.buildId), undefined);
  });

  it('succeeded of an earlier attempt while the next one is only queued ends the build without a cancel', () => {
    const { table, build } = runningBuild();
    table.expireLeases(T0 + LEASE_MS);
    const effects = table.onEvent(runnerEvent(build, 'succeeded', { attempt: 1 }), T0 + LEASE_MS + 1);
    assert.deepEqual(summary(effects), [`persist-build ${build.buildId}`]);
    assert.equal(table.get(build.buildId), undefined);
    assert.deepEqual(table.undispatched(), [], 'no request for attempt 2 goes out any more');
  });

  for (const state of ['failed', 'cancelled', 'timed-out'] as const) {
    it(`${state} of the current attempt ends the build`, () => {
      const { table, build } = runningBuild();
      assert.deepEqual(summary(table.onEvent(runnerEvent(build, state), T0 + 1)), [`persist-build ${build.buildId}`]);
      assert.equal(build.phase, 'done');
      assert.equal(table.size, 0);
    });
  }
});

describe('BuildTable.expireLeases', () => {
  it('dispatches attempt + 1 with a reason when a lease runs out, and only then', () => {
    const { table, build } = runningBuild();
    const [queued] = table.submit(submitOf('s-2'), resolvedAt(COMMIT_A, [TRIXIE])).buildIds;
    assert.deepEqual(table.expireLeases(T0 + LEASE_MS - 1), []);

    const expired = table.expireLeases(T0 + LEASE_MS);
    assert.equal(expired.length, 1, 'the queued build has no lease to run out');
    const [only] = expired;
    assert.ok(only);
    assert.equal(only.build, build);
    assert.equal(only.runnerId, 'runner-1');
    assertDispatchedAgain(only.effects, build, {
      reason: 'the lease of runner runner-1 ran out: attempt 2',
      attempt: 2,
      expiries: 1,
    });
    assert.deepEqual(
      table.undispatched().map((b) => b.buildId),
      [build.buildId, queued],
    );
    assert.deepEqual(table.expireLeases(T0 + 10 * LEASE_MS), [], 'queued again: no lease to run out');
  });

  it('fails the build with lease-expired after maxAttempts', () => {
    const { table, build } = runningBuild({ maxAttempts: 2 });
    table.expireLeases(T0 + LEASE_MS);
    table.dispatched(build.buildId, 2, false, T0 + LEASE_MS);
    table.onEvent(runnerEvent(build, 'claimed', { runnerId: 'runner-2', leaseMs: 1000 }), T0 + LEASE_MS);

    const [last, ...rest] = table.expireLeases(T0 + LEASE_MS + 1000);
    assert.deepEqual(rest, []);
    assert.ok(last);
    assert.equal(last.runnerId, 'runner-2');
    assert.deepEqual(summary(last.effects), [`persist-build ${build.buildId}`, `event failed ${build.buildId}`]);
    const failed = last.effects[1];
    assert.ok(failed?.type === 'event');
    assert.deepEqual(failed.error, {
      code: 'lease-expired',
      message: 'the lease of runner runner-2 ran out on attempt 2 of 2',
    });
    assert.equal(build.phase, 'done');
    assert.equal(build.expiries, 2);
    assert.equal(table.size, 0);
  });

  it('ends a build cancelled while it ran as cancelled when its lease runs out, instead of retrying it', () => {
    const { table, build } = runningBuild();
    table.cancel(build.buildId, 'by user');
    const [expired] = table.expireLeases(T0 + LEASE_MS);
    assert.ok(expired);
    assert.deepEqual(summary(expired.effects), [`persist-build ${build.buildId}`, `event cancelled ${build.buildId}`]);
    assert.equal(build.attempt, 1, 'no new attempt');
    assert.equal(build.phase, 'done');
    assert.equal(table.size, 0);
    assert.deepEqual(table.undispatched(), []);
  });
});

describe('BuildTable: failures that may pass on another attempt (retriable)', () => {
  const storeDown = { code: 'storage-unavailable', message: 'S3 store: 503', retriable: true };

  it('dispatches a retriable failure of the current attempt again with attempt + 1, telling why', () => {
    const { table, build } = runningBuild();
    const effects = table.onEvent(runnerEvent(build, 'failed', { error: storeDown }), T0 + 1);
    assertDispatchedAgain(effects, build, {
      reason: 'retrying: [storage-unavailable] S3 store: 503, attempt 2 of 3',
      attempt: 2,
      expiries: 0, // not a lease expiry
    });
    assert.deepEqual(
      table.undispatched().map((b) => b.buildId),
      [build.buildId],
    );
    assert.deepEqual(table.onEvent(runnerEvent(build, 'failed', { attempt: 1, error: storeDown }), T0 + 2), []);
    assert.equal(build.attempt, 2, 'the same failure read twice is one retry');
  });

  for (const error of [
    { code: 'build-failed', message: 'make: Error 2', retriable: false },
    { code: 'storage-unavailable', message: 'S3 store: 503' },
  ]) {
    it(`ends a failure that is not retriable as before (retriable: ${String(error.retriable)})`, () => {
      const { table, build } = runningBuild();
      assert.deepEqual(summary(table.onEvent(runnerEvent(build, 'failed', { error }), T0 + 1)), [
        `persist-build ${build.buildId}`,
      ]);
      assert.equal(build.phase, 'done');
      assert.equal(build.attempt, 1);
      assert.equal(table.size, 0);
    });
  }

  it('closes a retriable failure of the last attempt with a failed event of its own, not retriable', () => {
    const { table, build } = runningBuild({ maxAttempts: 2 });
    table.onEvent(runnerEvent(build, 'failed', { error: storeDown }), T0 + 1);
    table.dispatched(build.buildId, 2, false, T0 + 2);
    table.onEvent(runnerEvent(build, 'claimed', { runnerId: 'runner-2', leaseMs: LEASE_MS }), T0 + 3);
    const effects = table.onEvent(runnerEvent(build, 'failed', { runnerId: 'runner-2', error: storeDown }), T0 + 4);
    assert.deepEqual(summary(effects), [`persist-build ${build.buildId}`, `event failed ${build.buildId}`]);
    const closing = effects[1];
    assert.ok(closing?.type === 'event');
    assert.deepEqual(closing.error, { ...storeDown, retriable: false });
    assert.equal(closing.reason, 'no attempt left: attempt 2 of 2');
    assert.equal(build.phase, 'done');
    assert.equal(build.attempt, 2);
    assert.equal(table.size, 0);
    assert.deepEqual(table.undispatched(), []);
  });

  it('does not retry a build cancelled while it ran: a retriable failure ends it cancelled', () => {
    const { table, build } = runningBuild();
    table.cancel(build.buildId, 'by user');
    const effects = table.onEvent(runnerEvent(build, 'failed', { error: storeDown }), T0 + 1);
    assert.deepEqual(summary(effects), [`persist-build ${build.buildId}`, `event cancelled ${build.buildId}`]);
    assert.equal(build.attempt, 1);
    assert.equal(table.size, 0);
  });
});

describe('BuildTable.cancel', () => {
  for (const waiting of [false, true]) {
    it(`ends a ${waiting ? 'waiting' : 'queued'} build at once`, () => {
      const table = tableOf();
      const [a] = table.submit(submitOf('s-1'), resolvedAt(COMMIT_A, [BOOKWORM])).buildIds;
      const build = tracked(table, a);
      table.dispatched(build.buildId, 1, waiting, T0);
      const effects = table.cancel(build.buildId, 'by user');
      assert.deepEqual(summary(effects), [`persist-build ${build.buildId}`, `event cancelled ${build.buildId}`]);
      const event = effects[1];
      assert.ok(event?.type === 'event');
      assert.equal(event.reason, 'by user');
      assert.equal(build.phase, 'done');
      assert.equal(table.size, 0);
    });
  }

  it('leaves a running build to its runner: only cancelRequested (persisted)', () => {
    const { table, build } = runningBuild();
    assert.deepEqual(summary(table.cancel(build.buildId, 'by user')), [`persist-build ${build.buildId}`]);
    assert.equal(build.cancelRequested, true);
    assert.equal(build.phase, 'running');
    assert.deepEqual(summary(table.onEvent(runnerEvent(build, 'cancelled'), T0 + 1)), [
      `persist-build ${build.buildId}`,
    ]);
    assert.equal(table.size, 0);
  });

  it('ignores an unknown or finished build', () => {
    const { table, build } = runningBuild();
    assert.deepEqual(table.cancel('nope', 'x'), []);
    table.onEvent(runnerEvent(build, 'succeeded'), T0 + 1);
    assert.deepEqual(table.cancel(build.buildId, 'x'), []);
  });
});

describe('BuildTable.restore', () => {
  function saved(buildKey: string, commit: string, overrides: Partial<TrackedBuild>): TrackedBuild {
    const target = buildKey === KEY_BOOKWORM ? BOOKWORM : TRIXIE;
    return {
      buildId: buildIdOf('s-old', buildKey),
      buildKey,
      project: PROJECT,
      target,
      repoKey: `projects/demo/${target.dist}`,
      kind: 'deb',
      runnerGroup: 'default',
      sourceUrl: SOURCES,
      commit,
      submitId: 's-old',
      attempt: 1,
      phase: 'queued',
      dispatched: true,
      leaseMs: LEASE_MS,
      expiries: 0,
      ...overrides,
    };
  }

  it('keeps builds not done, gives running ones a fresh lease, and remembers submissions', () => {
    const running = saved(KEY_BOOKWORM, COMMIT_A, { phase: 'running', leaseUntil: 5, runnerId: 'runner-1' });
    const queued = saved(KEY_TRIXIE, COMMIT_A, { dispatched: false });
    const done = saved(KEY_TRIXIE, COMMIT_B, { buildId: 'old-done', phase: 'done' });
    const table = tableOf();
    table.restore([running, done, queued], [['s-old', [running.buildId, queued.buildId]]], T0);

    assert.equal(table.size, 2);
    assert.equal(table.get('old-done'), undefined);
    const restored = tracked(table, running.buildId);
    assert.equal(restored.leaseUntil, T0 + LEASE_MS);
    assert.equal(running.leaseUntil, 5, 'the loaded record itself is not changed');
    assert.deepEqual(table.expireLeases(T0 + LEASE_MS - 1), [], 'no lease ran out while the scheduler was down');
    assert.deepEqual(
      table.undispatched().map((b) => b.buildId),
      [queued.buildId],
    );

    // The same submission again: the same builds, the undispatched one published.
    const again = table.submit(submitOf('s-old'), resolvedAt(COMMIT_A));
    assert.deepEqual(again.buildIds, [running.buildId, queued.buildId]);
    assert.deepEqual(summary(again.effects), [`dispatch ${queued.buildId}`]);
    // A new submission at the same commit reuses the restored builds; at another commit supersedes them.
    assert.deepEqual(table.submit(submitOf('s-new'), resolvedAt(COMMIT_A)).buildIds, again.buildIds);
    const newer = table.submit(submitOf('s-newer'), resolvedAt(COMMIT_B, [BOOKWORM]));
    assert.deepEqual(newer.buildIds, [buildIdOf('s-newer', KEY_BOOKWORM)]);
    assert.ok(summary(newer.effects).includes(`cancel ${running.buildId} superseded`));
  });

  it('applies the submission limit to restored submissions', () => {
    const table = tableOf({ rememberSubmits: 1 });
    table.restore(
      [],
      [
        ['s-1', ['x']],
        ['s-2', ['y']],
      ],
      T0,
    );
    assert.equal(table.submitted('s-1'), undefined);
    assert.deepEqual(table.submitted('s-2'), ['y']);
  });
});
