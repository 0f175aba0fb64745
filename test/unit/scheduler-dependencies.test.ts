/**
 * The scheduler's dependency order (issue 11): a build whose dependencies are being built waits
 * until they are published, fails when one fails, and a cycle of waits fails every member with
 * the cycle. Pure: the build table and its effects, no broker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildTable, type ResolvedSubmit } from '../../scheduler/core/build-table.ts';
import type { SchedulerEffect } from '../../scheduler/core/effects.ts';
import type { PlannedDependency, TrackedBuild } from '../../scheduler/core/tracked-build.ts';
import { buildKeyOf, type BuildEvent, type BuildState, type BuildSubmit } from '../../shared/messages/index.ts';
import { eventOf } from '../fixtures/messages.ts';

const TARGET = { dist: 'bookworm', arch: 'x86_64' };
const COMMIT = 'c'.repeat(40);
const COMMIT_2 = 'd'.repeat(40);
const LIB = 'projects/greet/libbfgreet';
const APP = 'projects/greet/bfgreet';
const T0 = 5_000_000;

function tableOf(): BuildTable {
  return new BuildTable({ leaseMs: 60_000, maxAttempts: 3, dependencySubmitWaitMs: 10_000 });
}

function dep(project: string): PlannedDependency {
  return { project, buildKey: buildKeyOf(project, TARGET), packages: [`${project.split('/').at(-1) ?? ''}-dev`] };
}

function resolved(deps: string[] = [], commit = COMMIT): ResolvedSubmit {
  return {
    commit,
    sourceUrl: 'file:///srv/sources',
    targets: [{ target: TARGET, kind: 'deb', runnerGroup: 'default', dependencies: deps.map(dep) }],
  };
}

function submitOf(project: string, extra: Partial<BuildSubmit> = {}): BuildSubmit {
  return { v: 1, type: 'build.submit', submitId: `s:${project}:${extra.ref ?? ''}`, project, ...extra };
}

function event(
  build: TrackedBuild,
  state: BuildState,
  service = 'runner',
  extra: Partial<BuildEvent> = {},
): BuildEvent {
  return eventOf(build, state, new Date(T0).toISOString(), { service, instance: `${service}-1` }, extra);
}

/** Submits and returns the one build the submission made. */
function submit(
  table: BuildTable,
  project: string,
  deps: string[],
  extra: Partial<BuildSubmit> = {},
  commit = COMMIT,
): { build: TrackedBuild; effects: SchedulerEffect[] } {
  const { buildIds, effects } = table.submit(submitOf(project, extra), resolved(deps, commit), T0);
  // A build that failed at once (a cycle) is not tracked any more: take it from its effects.
  const build =
    table.get(buildIds[0] ?? '') ??
    effects.flatMap((e) => (e.type === 'persist-build' && e.build.buildId === buildIds[0] ? [e.build] : []))[0];
  assert.ok(build, `${project} made a build`);
  return { build, effects };
}

function dispatched(effects: SchedulerEffect[]): string[] {
  return effects.flatMap((e) => (e.type === 'dispatch' ? [e.build.project] : []));
}

function eventsOf(effects: SchedulerEffect[], state: BuildState) {
  return effects.flatMap((e) => (e.type === 'event' && e.state === state ? [e] : []));
}

/** The last persisted record of every build, as the state topic would hold it after compaction. */
function persisted(all: SchedulerEffect[][]): TrackedBuild[] {
  const latest = new Map<string, TrackedBuild>();
  for (const effects of all)
    for (const e of effects) if (e.type === 'persist-build') latest.set(e.build.buildId, structuredClone(e.build));
  return [...latest.values()];
}

describe('scheduler: dependency order', () => {
  it('a dependant submitted before its dependency (same batch) waits, and is dispatched only after it is published', () => {
    const table = tableOf();
    const batch = [LIB, APP];
    const app = submit(table, APP, [LIB], { batch });
    assert.deepEqual(dispatched(app.effects), []);
    assert.equal(app.build.phase, 'blocked');
    const [waiting] = eventsOf(app.effects, 'waiting');
    assert.equal(waiting?.reason, `dependency ${LIB} (not submitted yet)`);

    const lib = submit(table, LIB, [], { batch });
    assert.deepEqual(dispatched(lib.effects), [LIB]);
    const rebound = eventsOf(lib.effects, 'waiting').find((e) => e.build.project === APP);
    assert.equal(rebound?.reason, `dependency ${LIB} (build ${lib.build.buildId})`);
    assert.deepEqual(rebound?.waitingFor, [lib.build.buildId]);

    assert.deepEqual(dispatched(table.onEvent(event(lib.build, 'claimed'), T0)), []);
    assert.deepEqual(dispatched(table.onEvent(event(lib.build, 'succeeded'), T0)), []);
    assert.equal(table.get(app.build.buildId)?.phase, 'blocked', 'succeeded is not enough: published is');
    // A published event from the runner side is not how publishing is told; the collector's is.
    const afterPublish = table.onEvent(event(lib.build, 'published', 'collector'), T0);
    assert.deepEqual(dispatched(afterPublish), [APP]);
    assert.equal(table.get(app.build.buildId)?.phase, 'queued');
    assert.deepEqual(
      table.undispatched().map((b) => b.project),
      [APP],
    );
  });

  it('a dependency already queued is waited for even outside a batch; one not being built is not', () => {
    const table = tableOf();
    const lib = submit(table, LIB, []);
    const app = submit(table, APP, [LIB]);
    assert.equal(app.build.phase, 'blocked');
    assert.deepEqual(
      app.build.waitFor?.map((w) => w.buildId),
      [lib.build.buildId],
    );

    const other = tableOf();
    const alone = submit(other, APP, [LIB]);
    assert.deepEqual(dispatched(alone.effects), [APP], 'built against what is published');
  });

  it('a diamond: the top is dispatched once, after both middle packages are published', () => {
    const table = tableOf();
    const batch = ['projects/x/lib', 'projects/x/a', 'projects/x/b', 'projects/x/app'];
    const app = submit(table, 'projects/x/app', ['projects/x/a', 'projects/x/b'], { batch });
    const a = submit(table, 'projects/x/a', ['projects/x/lib'], { batch });
    const b = submit(table, 'projects/x/b', ['projects/x/lib'], { batch });
    const lib = submit(table, 'projects/x/lib', [], { batch });
    const all = [app.effects, a.effects, b.effects, lib.effects];
    assert.deepEqual(all.flatMap(dispatched), ['projects/x/lib']);
    table.onEvent(event(lib.build, 'succeeded'), T0);
    const libPublished = table.onEvent(event(lib.build, 'published', 'collector'), T0);
    assert.deepEqual(dispatched(libPublished).sort(), ['projects/x/a', 'projects/x/b']);
    table.onEvent(event(a.build, 'succeeded'), T0);
    const aPublished = table.onEvent(event(a.build, 'published', 'collector'), T0);
    assert.deepEqual(dispatched(aPublished), []);
    assert.equal(eventsOf(aPublished, 'waiting')[0]?.reason, `dependency projects/x/b (build ${b.build.buildId})`);
    table.onEvent(event(b.build, 'succeeded'), T0);
    const bPublished = table.onEvent(event(b.build, 'published', 'collector'), T0);
    assert.deepEqual(dispatched(bPublished), ['projects/x/app']);
    assert.equal(table.get(app.build.buildId)?.phase, 'queued');
  });

  it('a failed dependency fails its dependants (transitively) with dependency-failed, without running them', () => {
    const table = tableOf();
    const batch = [LIB, APP, 'projects/greet/top'];
    const lib = submit(table, LIB, [], { batch });
    const app = submit(table, APP, [LIB], { batch });
    const top = submit(table, 'projects/greet/top', [APP], { batch });
    table.onEvent(event(lib.build, 'claimed'), T0);
    const effects = table.onEvent(
      event(lib.build, 'failed', 'runner', { error: { code: 'build-failed', message: 'make: *** [all] Error 1' } }),
      T0,
    );
    const failed = eventsOf(effects, 'failed');
    assert.deepEqual(
      failed.map((e) => [e.build.project, e.error?.code]),
      [
        [APP, 'dependency-failed'],
        ['projects/greet/top', 'dependency-failed'],
      ],
    );
    assert.match(
      failed[0]?.error?.message ?? '',
      new RegExp(`^dependency ${LIB} \\(build ${lib.build.buildId}\\) failed`),
    );
    assert.match(failed[1]?.error?.message ?? '', new RegExp(`dependency ${APP} .*dependency-failed`));
    assert.equal(table.get(app.build.buildId), undefined);
    assert.equal(table.get(top.build.buildId), undefined);
    assert.deepEqual(dispatched(effects), []);
  });

  it('a dependency that failed to publish fails its dependants too', () => {
    const table = tableOf();
    const lib = submit(table, LIB, []);
    const app = submit(table, APP, [LIB]);
    table.onEvent(event(lib.build, 'succeeded'), T0);
    const effects = table.onEvent(
      event(lib.build, 'failed', 'collector', { error: { code: 'artifact-missing', message: 'gone' } }),
      T0,
    );
    assert.deepEqual(
      eventsOf(effects, 'failed').map((e) => [e.build.buildId, e.error?.code]),
      [[app.build.buildId, 'dependency-failed']],
    );
  });

  it('a cycle of two never deadlocks: both fail with dependency-cycle naming the cycle', () => {
    const table = tableOf();
    const batch = ['projects/c/a', 'projects/c/b', 'projects/c/user'];
    const a = submit(table, 'projects/c/a', ['projects/c/b'], { batch });
    const user = submit(table, 'projects/c/user', ['projects/c/a'], { batch });
    const b = submit(table, 'projects/c/b', ['projects/c/a'], { batch });
    const failed = eventsOf(b.effects, 'failed');
    const byProject = new Map(failed.map((e) => [e.build.project, e.error]));
    assert.equal(byProject.get('projects/c/a')?.code, 'dependency-cycle');
    assert.equal(byProject.get('projects/c/b')?.code, 'dependency-cycle');
    assert.match(
      byProject.get('projects/c/a')?.message ?? '',
      /projects\/c\/(a|b) -> projects\/c\/(b|a) -> projects\/c\/\1/,
    );
    assert.match(byProject.get('projects/c/a')?.message ?? '', /--ignore-deps/);
    assert.equal(byProject.get('projects/c/user')?.code, 'dependency-failed');
    for (const build of [a.build, b.build, user.build]) assert.equal(table.get(build.buildId), undefined);
    assert.equal(table.phases().blocked, 0, 'nothing stuck');
  });

  it('--ignore-deps builds against what is published without waiting', () => {
    const table = tableOf();
    submit(table, LIB, []);
    const app = submit(table, APP, [LIB], { ignoreDeps: true });
    assert.deepEqual(dispatched(app.effects), [APP]);
  });

  it('a dependency superseded by a newer commit: the dependant waits for the new build', () => {
    const table = tableOf();
    const lib = submit(table, LIB, []);
    const app = submit(table, APP, [LIB]);
    const newer = submit(table, LIB, [], { ref: 'second' }, COMMIT_2);
    assert.deepEqual(
      table.get(app.build.buildId)?.waitFor?.map((w) => w.buildId),
      [newer.build.buildId],
    );
    assert.equal(eventsOf(newer.effects, 'superseded')[0]?.build.buildId, lib.build.buildId);
    table.onEvent(event(newer.build, 'succeeded'), T0);
    assert.deepEqual(dispatched(table.onEvent(event(newer.build, 'published', 'collector'), T0)), [APP]);
  });

  it('a batch dependency whose submission failed fails the dependant; one never submitted stops being waited for', () => {
    const table = tableOf();
    const app = submit(table, APP, [LIB], { batch: [LIB, APP] });
    const effects = table.submitFailed(LIB, '[metadata-invalid] projects/greet/libbfgreet/buildfleet.yml: ...');
    assert.equal(eventsOf(effects, 'failed')[0]?.error?.code, 'dependency-failed');
    assert.equal(table.get(app.build.buildId), undefined);

    const other = tableOf();
    const lone = submit(other, APP, [LIB], { batch: [LIB, APP] });
    assert.deepEqual(other.expireDependencyWaits(T0 + 5_000), []);
    assert.deepEqual(dispatched(other.expireDependencyWaits(T0 + 10_000)), [APP]);
    assert.equal(other.get(lone.build.buildId)?.phase, 'queued');
  });

  it('a restart keeps the order: a blocked build stays blocked and goes on when its dependency is published', () => {
    const table = tableOf();
    const log: SchedulerEffect[][] = [];
    const lib = submit(table, LIB, [], { batch: [LIB, APP] });
    const app = submit(table, APP, [LIB], { batch: [LIB, APP] });
    const appBlocked = structuredClone(app.build);
    log.push(lib.effects, app.effects, table.onEvent(event(lib.build, 'succeeded'), T0));

    const restarted = tableOf();
    assert.deepEqual(restarted.restore(persisted(log), [], T0 + 1), []);
    assert.equal(restarted.get(app.build.buildId)?.phase, 'blocked');
    assert.deepEqual(restarted.undispatched(), []);
    const lateLib = { ...lib.build, phase: 'done' as const };
    assert.deepEqual(dispatched(restarted.onEvent(event(lateLib, 'published', 'collector'), T0 + 2)), [APP]);

    // Published while the scheduler was down (its record says so): the restore releases the dependant.
    const again = tableOf();
    log.push(table.onEvent(event(lib.build, 'published', 'collector'), T0));
    const libRecord = persisted(log).find((b) => b.buildId === lib.build.buildId);
    assert.ok(libRecord);
    assert.equal(libRecord.outcome, 'published');
    assert.deepEqual(dispatched(again.restore([libRecord, appBlocked], [], T0 + 3)), [APP]);
  });

  it('a batch dependency already built from the same commit before the dependant arrived is not waited for', () => {
    const table = tableOf();
    const batch = [LIB, APP];
    const lib = submit(table, LIB, [], { batch });
    table.onEvent(event(lib.build, 'succeeded'), T0);
    table.onEvent(event(lib.build, 'published', 'collector'), T0);
    const app = submit(table, APP, [LIB], { batch });
    assert.deepEqual(dispatched(app.effects), [APP]);

    // Built from an older commit: this batch's submission of it is still to come.
    const later = submit(table, APP, [LIB], { batch, ref: 'new' }, COMMIT_2);
    assert.equal(later.build.phase, 'blocked');
    assert.equal(eventsOf(later.effects, 'waiting')[0]?.reason, `dependency ${LIB} (not submitted yet)`);
  });

  it('a batch dependency that already failed at the same commit fails the dependant at once', () => {
    const table = tableOf();
    const batch = [LIB, APP, 'projects/greet/top'];
    const top = submit(table, 'projects/greet/top', [APP], { batch });
    const lib = submit(table, LIB, [], { batch });
    table.onEvent(event(lib.build, 'failed', 'runner', { error: { code: 'build-failed', message: 'no' } }), T0);
    const app = submit(table, APP, [LIB], { batch });
    const failed = eventsOf(app.effects, 'failed');
    assert.deepEqual(
      failed.map((e) => [e.build.project, e.error?.code]),
      [
        [APP, 'dependency-failed'],
        ['projects/greet/top', 'dependency-failed'],
      ],
    );
    assert.match(failed[0]?.error?.message ?? '', /build-failed/);
    assert.equal(table.get(top.build.buildId), undefined, 'its waiter is not left waiting');
    assert.equal(table.phases().blocked, 0);
  });
});
