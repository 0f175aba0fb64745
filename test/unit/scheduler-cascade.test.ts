/**
 * Cascades (issue 12): which packages a new build makes stale (affectedBy over a dist's graph),
 * and what the scheduler's core does with them: each rebuilt once, after the rebuilds of what it
 * needs, with a rebuild number that only goes up (also across a restart), superseding what runs
 * against the old version, keeping builds that were to come anyway. Pure: no broker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildTable } from '../../scheduler/core/build-table.ts';
import type { CascadePlan, CascadeTrigger } from '../../scheduler/core/cascade.ts';
import type { SchedulerEffect } from '../../scheduler/core/effects.ts';
import type { TrackedBuild } from '../../scheduler/core/tracked-build.ts';
import { eventOf } from '../../scheduler/messages-out.ts';
import { buildKeyOf, submissionProgress, type BuildEvent, type BuildState } from '../../shared/messages/index.ts';
import { affectedBy, distGraphOf, type GraphNode } from '../../shared/sources/index.ts';

const TARGET = { dist: 'bookworm', arch: 'x86_64' };
const C1 = '1'.repeat(40);
const C2 = '2'.repeat(40);
const T0 = 7_000_000;

function node(project: string, needs: string[], extra: Partial<GraphNode> = {}): GraphNode {
  return {
    project,
    dist: 'bookworm',
    arches: ['x86_64'],
    kind: 'noop',
    provides: [project],
    needs: needs.map((n) => ({ relation: n, names: [n] })),
    ...extra,
  };
}

/** lib <- a, b <- app (a diamond), and tool <- lib only. */
const DIAMOND = [
  node('lib', []),
  node('a', ['lib']),
  node('b', ['lib']),
  node('app', ['a', 'b']),
  node('tool', ['lib']),
];

describe('affectedBy: what a new build of a package makes stale', () => {
  it('transitive (the default): every dependant, each after what it needs, with its edges among them', () => {
    const affected = affectedBy(distGraphOf('bookworm', DIAMOND), 'lib');
    assert.deepEqual(
      affected.map((p) => p.project),
      ['a', 'b', 'tool', 'app'],
    );
    const app = affected.find((p) => p.project === 'app');
    assert.deepEqual(
      app?.needs.map((e) => e.to),
      ['a', 'b'],
    );
    assert.equal(app?.depth, 2);
  });

  it('direct stops after one level; none rebuilds nothing; the dist says which', () => {
    const graph = distGraphOf('bookworm', DIAMOND);
    assert.deepEqual(
      affectedBy(graph, 'lib', 'direct').map((p) => p.project),
      ['a', 'b', 'tool'],
    );
    assert.deepEqual(affectedBy(graph, 'lib', 'none'), []);
    assert.deepEqual(
      affectedBy({ ...graph, rebuildDependants: 'direct' }, 'lib').map((p) => p.project),
      ['a', 'b', 'tool'],
    );
  });

  it('a package that opts out is not rebuilt and the cascade does not go on through it', () => {
    const nodes = [
      ...DIAMOND.filter((n) => n.project !== 'a'),
      node('a', ['lib'], { rebuildOnDependencyChange: false }),
    ];
    assert.deepEqual(
      affectedBy(distGraphOf('bookworm', nodes), 'lib').map((p) => p.project),
      ['b', 'tool', 'app'],
    );
    // app still needs b (rebuilt) and a (not): it waits only for what the cascade rebuilds.
    const app = affectedBy(distGraphOf('bookworm', nodes), 'lib').find((p) => p.project === 'app');
    assert.deepEqual(
      app?.needs.map((e) => e.to),
      ['b'],
    );
  });

  it('a cycle among dependants is ordered (no member waits for one after it)', () => {
    const nodes = [node('lib', []), node('x', ['lib', 'y']), node('y', ['x'])];
    const affected = affectedBy(distGraphOf('bookworm', nodes), 'lib');
    assert.deepEqual(
      affected.map((p) => p.project),
      ['x', 'y'],
    );
    assert.deepEqual(
      affected.map((p) => p.needs.map((e) => e.to)),
      [['lib'], ['x']],
    );
  });
});

/** A plan as the resolver makes it from the graph. */
function planOf(commit: string, from: string, nodes: GraphNode[] = DIAMOND): CascadePlan {
  return {
    commit,
    sourceUrl: 'file:///srv/sources',
    targets: affectedBy(distGraphOf('bookworm', nodes), from).map((p) => ({
      project: p.project,
      target: TARGET,
      kind: 'noop',
      runnerGroup: 'default',
      dependencies: p.needs.map((e) => ({ project: e.to, buildKey: buildKeyOf(e.to, TARGET), packages: e.packages })),
    })),
  };
}

function event(build: TrackedBuild, state: BuildState, service = 'runner'): BuildEvent {
  return { ...eventOf(build, state, `${service}-1`), source: { service, instance: `${service}-1` } };
}

/** A harness around one table: builds go through succeeded and published; cascades run as the shell runs them. */
function cluster(table = new BuildTable({ leaseMs: 60_000, maxAttempts: 3 })) {
  const log: SchedulerEffect[][] = [];
  const record = (effects: SchedulerEffect[]): SchedulerEffect[] => {
    log.push(effects);
    return effects;
  };
  const build = (project: string, commit: string, deps: string[] = [], at = T0): TrackedBuild => {
    const { buildIds } = table.submit(
      { v: 1, type: 'build.submit', submitId: `s:${project}:${commit}`, project },
      {
        commit,
        sourceUrl: 'file:///srv/sources',
        targets: [
          {
            target: TARGET,
            kind: 'noop',
            runnerGroup: 'default',
            dependencies: deps.map((d) => ({ project: d, buildKey: buildKeyOf(d, TARGET), packages: [d] })),
          },
        ],
      },
      at,
    );
    const made = table.get(buildIds[0] ?? '');
    assert.ok(made);
    return made;
  };
  /** Runner claims it (it is dispatched); the shell marks it dispatched. */
  const run = (b: TrackedBuild): void => {
    table.dispatched(b.buildId, b.attempt, false, T0);
    record(table.onEvent(event(b, 'claimed'), T0));
  };
  /** succeeded, then the collector's published; with a plan, the cascade it starts. */
  const publish = (b: TrackedBuild, plan?: (trigger: CascadeTrigger) => CascadePlan): SchedulerEffect[] => {
    record(table.onEvent(event(b, 'succeeded'), T0));
    const published = event(b, 'published', 'collector');
    const trigger = table.cascadeTrigger(published);
    const effects = [...table.onEvent(published, T0)];
    if (trigger && plan) effects.push(...table.cascade(trigger, plan(trigger), T0));
    return record(effects);
  };
  const current = (project: string): TrackedBuild | undefined => table.current(buildKeyOf(project, TARGET));
  return { table, log, build, run, publish, current };
}

const made = (effects: SchedulerEffect[]): string[] =>
  effects.flatMap((e) => (e.type === 'event' && e.state === 'submitted' && e.build.rebuild ? [e.build.project] : []));
const sent = (effects: SchedulerEffect[]): string[] =>
  effects.flatMap((e) => (e.type === 'dispatch' && e.build.phase !== 'blocked' ? [e.build.project] : []));

describe('scheduler: cascades of rebuilds', () => {
  /** Everything of DIAMOND built and published at C1 (each after what it needs), no cascades. */
  function builtDiamond() {
    const c = cluster();
    for (const [project, deps] of [
      ['lib', []],
      ['a', ['lib']],
      ['b', ['lib']],
      ['tool', ['lib']],
      ['app', ['a', 'b']],
    ] as const) {
      const b = c.build(project, C1, [...deps]);
      c.run(b);
      c.publish(b);
    }
    return c;
  }

  it('a new lib rebuilds its dependants once each, the diamond top after both middles, with rebuild numbers and reasons', () => {
    const c = builtDiamond();
    const lib = c.build('lib', C2);
    c.run(lib);
    const cascade = c.publish(lib, (t) => planOf(t.commit, 'lib'));
    assert.deepEqual(made(cascade).sort(), ['a', 'app', 'b', 'tool']);
    assert.deepEqual(sent(cascade).sort(), ['a', 'b', 'tool'], 'the top waits');
    const [a, b, tool, app] = ['a', 'b', 'tool', 'app'].map((p) => c.current(p));
    assert.ok(a && b && tool && app);
    assert.equal(app.phase, 'blocked');
    assert.deepEqual(app.rebuild, {
      number: 1,
      because: [
        { project: 'a', buildId: a.buildId },
        { project: 'b', buildId: b.buildId },
      ],
    });
    assert.deepEqual(a.rebuild, { number: 1, because: [{ project: 'lib', buildId: lib.buildId }] });
    assert.equal(a.commit, C2);
    assert.ok(cascade.some((e) => e.type === 'persist-rebuild' && e.buildKey === app.buildKey && e.number === 1));
    assert.ok(cascade.some((e) => e.type === 'persist-submit' && e.submitId === `cascade:${lib.buildId}`));

    // A rebuild's publish starts no cascade of its own; the top goes only after both middles.
    c.run(a);
    assert.deepEqual(sent(c.publish(a, () => assert.fail('a rebuild starts no cascade'))), []);
    assert.equal(app.phase, 'blocked');
    c.run(b);
    assert.deepEqual(sent(c.publish(b, () => assert.fail('a rebuild starts no cascade'))), ['app']);
    // The same published again (a redelivery) starts nothing.
    assert.equal(c.table.cascadeTrigger(event(lib, 'published', 'collector')), undefined);
  });

  it('the next cascade gives higher rebuild numbers, also after a restart', () => {
    const c = builtDiamond();
    const lib = c.build('lib', C2);
    c.run(lib);
    c.publish(lib, (t) => planOf(t.commit, 'lib'));
    for (const p of ['a', 'b', 'tool', 'app']) {
      const b = c.current(p);
      assert.ok(b);
      c.run(b);
      c.publish(b);
    }
    // Restart: only what the state topic holds (the last record of each key).
    const latest = new Map<string, TrackedBuild>();
    const rebuilds = new Map<string, number>();
    const submits: Array<[string, string[]]> = [];
    for (const effects of c.log) {
      for (const e of effects) {
        if (e.type === 'persist-build') latest.set(e.build.buildId, structuredClone(e.build));
        if (e.type === 'persist-rebuild') rebuilds.set(e.buildKey, e.number);
        if (e.type === 'persist-submit') submits.push([e.submitId, e.buildIds]);
      }
    }
    const restarted = cluster();
    restarted.table.restore(latest.values(), submits, T0, rebuilds);
    const lib3 = restarted.build('lib', '3'.repeat(40));
    restarted.run(lib3);
    restarted.publish(lib3, (t) => planOf(t.commit, 'lib'));
    assert.equal(restarted.current('app')?.rebuild?.number, 2);
    assert.equal(restarted.current('tool')?.rebuild?.number, 2);
  });

  it('after a restart the `published` that came again starts the cascade it had not started', () => {
    const c = builtDiamond();
    const lib = c.build('lib', C2);
    c.run(lib);
    // The scheduler wrote lib's published but died before the cascade.
    c.publish(lib);
    const latest = new Map<string, TrackedBuild>();
    for (const effects of c.log)
      for (const e of effects) if (e.type === 'persist-build') latest.set(e.build.buildId, structuredClone(e.build));
    const restarted = cluster();
    restarted.table.restore(latest.values(), [], T0);
    const again = event(lib, 'published', 'collector');
    const trigger = restarted.table.cascadeTrigger(again);
    assert.equal(trigger?.commit, C2);
    assert.ok(trigger);
    assert.deepEqual(restarted.table.onEvent(again, T0), []);
    const effects = restarted.table.cascade(trigger, planOf(C2, 'lib'), T0);
    assert.deepEqual(made(effects).sort(), ['a', 'app', 'b', 'tool']);
  });

  it('a dependant changed in the same commit is built once, from it, after the rebuilds of what it needs', () => {
    const c = builtDiamond();
    const lib = c.build('lib', C2);
    // app changed in C2 too; it needs a and b (unchanged): the watcher did not batch it with lib.
    const app = c.build('app', C2, ['a', 'b']);
    assert.equal(app.phase, 'queued');
    c.run(lib);
    const cascade = c.publish(lib, (t) => planOf(t.commit, 'lib'));
    assert.deepEqual(made(cascade).sort(), ['a', 'b', 'tool'], 'app is not rebuilt: its own build is to come');
    assert.equal(c.current('app'), app);
    assert.equal(app.phase, 'blocked', 'it now waits for the rebuilds of a and b');
    assert.deepEqual(
      app.waitFor?.map((w) => w.project),
      ['a', 'b'],
    );
  });

  it('a dependant running against the old version is superseded by its rebuild', () => {
    const c = builtDiamond();
    const tool = c.build('tool', '0'.repeat(40), ['lib']);
    c.run(tool);
    const lib = c.build('lib', C2);
    c.run(lib);
    const cascade = c.publish(lib, (t) => planOf(t.commit, 'lib'));
    const superseded = cascade.find((e) => e.type === 'event' && e.state === 'superseded');
    assert.ok(superseded && superseded.type === 'event');
    assert.equal(superseded.build.buildId, tool.buildId);
    assert.match(superseded.reason ?? '', /superseded by a rebuild/);
    assert.ok(cascade.some((e) => e.type === 'cancel' && e.buildId === tool.buildId));
    assert.equal(c.current('tool')?.rebuild?.number, 1);
  });

  it('a second change while a cascade runs: running rebuilds are superseded, waiting ones wait for the new ones; the top is built once', () => {
    const c = builtDiamond();
    const lib2 = c.build('lib', C2);
    c.run(lib2);
    c.publish(lib2, (t) => planOf(t.commit, 'lib'));
    const first = { a: c.current('a'), app: c.current('app') };
    assert.ok(first.a && first.app);
    c.run(first.a);
    // b and tool are dispatched (queued for runners), as the shell does with their dispatch effects.
    for (const p of ['b', 'tool']) {
      const queued = c.current(p);
      assert.ok(queued);
      c.table.dispatched(queued.buildId, queued.attempt, false, T0);
    }
    const lib3 = c.build('lib', '3'.repeat(40));
    c.run(lib3);
    const second = c.publish(lib3, (t) => planOf(t.commit, 'lib'));
    const superseded = second.flatMap((e) => (e.type === 'event' && e.state === 'superseded' ? [e.build.project] : []));
    assert.deepEqual(superseded.sort(), ['a', 'b', 'tool'], 'the rebuilds dispatched against lib 2');
    assert.equal(c.current('app'), first.app, 'the top, still waiting, is kept');
    const a3 = c.current('a');
    const b3 = c.current('b');
    assert.ok(a3 && b3 && a3 !== first.a);
    assert.deepEqual(
      first.app.waitFor?.map((w) => w.buildId).sort(),
      [a3.buildId, b3.buildId].sort(),
      'it waits for the new rebuilds',
    );
    assert.equal(a3.rebuild?.number, 2);
    for (const p of ['a', 'b']) {
      const b = c.current(p);
      assert.ok(b);
      c.run(b);
      c.publish(b);
    }
    assert.equal(first.app.phase, 'queued', 'the top goes once, after both new middles');
  });

  it('a dependant built from a newer commit after the change was made is rebuilt from that commit, never an older one', () => {
    const c = builtDiamond();
    const lib = c.build('lib', C2, [], T0 + 10);
    // tool changed in a later commit and was built and published while lib was still building.
    const tool = c.build('tool', '3'.repeat(40), ['lib'], T0 + 20);
    c.run(tool);
    c.publish(tool);
    c.run(lib);
    c.publish(lib, (t) => planOf(t.commit, 'lib'));
    assert.equal(c.current('tool')?.commit, '3'.repeat(40));
    assert.equal(c.current('tool')?.rebuild?.number, 1);
    assert.equal(c.current('a')?.commit, C2);
  });

  it('a failed rebuild fails only what waits for it', () => {
    const c = builtDiamond();
    const lib = c.build('lib', C2);
    c.run(lib);
    c.publish(lib, (t) => planOf(t.commit, 'lib'));
    const a = c.current('a');
    assert.ok(a);
    c.run(a);
    const failed = c.table.onEvent({ ...event(a, 'failed'), error: { code: 'build-failed', message: 'x' } }, T0);
    const ended = failed.flatMap((e) => (e.type === 'event' && e.state === 'failed' ? [e.build.project] : []));
    assert.deepEqual(ended, ['app']);
    assert.equal(c.current('b')?.phase, 'queued');
    assert.equal(c.current('tool')?.phase, 'queued');
  });
});

describe('scheduler: cascades and first imports', () => {
  it('a dependant never built before (its first submission still to come) is not rebuilt', () => {
    const c = cluster();
    const lib = c.build('lib', C1);
    c.run(lib);
    const cascade = c.publish(lib, (t) => planOf(t.commit, 'lib'));
    assert.deepEqual(made(cascade), []);
    assert.ok(!cascade.some((e) => e.type === 'persist-submit'));
  });
});

describe('submissionProgress: how far a submission of many builds is', () => {
  it('counts published, failed, waiting on dependencies, building and queued', () => {
    const progress = submissionProgress('s1', [
      { state: 'published' },
      { state: 'published' },
      { state: 'failed' },
      { state: 'superseded' },
      { state: 'waiting', waitingFor: ['b1'] },
      { state: 'waiting' },
      { state: 'building' },
      { state: 'succeeded' },
      { state: 'queued' },
    ]);
    assert.equal(progress.total, 9);
    assert.equal(
      progress.text,
      '2/9 published, 2 failed, 1 waiting on dependencies, 1 building, 1 to publish, 2 queued',
    );
  });
});
