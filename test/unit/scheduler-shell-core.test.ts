/**
 * The scheduler core behind the input queue (scheduler/core/scheduler-core.ts): inputs in,
 * effects out, the answers of the shell's I/O fed back as the shell does. No bus: `drive`
 * plays the shell against a small world of runner counts and request topics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResolvedSubmit } from '../../scheduler/core/build-table.ts';
import type { CoreEffect, SchedulerInput } from '../../scheduler/core/inputs.ts';
import { SchedulerCore } from '../../scheduler/core/scheduler-core.ts';
import type { TrackedBuild } from '../../scheduler/core/tracked-build.ts';
import { eventOf as schedulerEvent } from '../../scheduler/messages-out.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { BuildEvent, BuildState, BuildSubmit, Target } from '../../shared/messages/index.ts';

const T0 = 1_000_000;
const COMMIT = 'a'.repeat(40);
const X86: Target = { dist: 'bookworm', arch: 'x86_64' };
const ARM: Target = { dist: 'bookworm', arch: 'aarch64' };

interface World {
  /** Members of each `<runnerGroup>.<arch>` consumer group (none when absent). */
  runners: Map<string, number>;
  /** Request topics (`<runnerGroup>.<arch>`) that do not exist. */
  missingTopics?: Set<string>;
}

/** Plays the shell: carries out the effects of one input in order, answering as the world says. */
function drive(core: SchedulerCore, input: SchedulerInput, now: number, world: World): string[] {
  const out: string[] = [];
  const run = (effects: CoreEffect[]): void => {
    for (const effect of effects) {
      switch (effect.type) {
        case 'persist-build':
          out.push(`persist ${effect.build.buildKey}${effect.build.dispatched ? ' dispatched' : ''}`);
          break;
        case 'persist-submit':
          out.push(`persist-submit ${effect.submitId}`);
          break;
        case 'persist-rebuild':
          out.push(`persist-rebuild ${effect.buildKey}`);
          break;
        case 'event':
          out.push(`${effect.state} ${effect.build.buildKey}${effect.reason ? `: ${effect.reason}` : ''}`);
          break;
        case 'cancel':
          out.push(`cancel ${effect.buildId}`);
          break;
        case 'dispatch':
          run(core.handle({ type: 'dispatch-due', build: effect.build, reason: effect.reason }, now));
          break;
        case 'check-waiting':
          run(core.handle({ type: 'waiting-due' }, now));
          break;
        case 'count-runners': {
          const pools = effect.pools.map((p) => `${p.runnerGroup}.${p.arch}`);
          out.push(`count ${pools.join(' ')}`);
          const counts = pools.map((pool) => world.runners.get(pool) ?? 0);
          run(core.handle({ type: 'runners-counted', pools: effect.pools, counts, purpose: effect.purpose }, now));
          break;
        }
        case 'request': {
          const topic = `${effect.build.runnerGroup}.${effect.build.target.arch}`;
          if (world.missingTopics?.has(topic)) {
            run(core.handle({ type: 'request-topic-missing', build: effect.build, topic }, now));
            break;
          }
          out.push(`request ${effect.build.buildKey}#${effect.attempt}`);
          const { build, attempt, waiting } = effect;
          run(core.handle({ type: 'request-sent', build, attempt, waiting }, now));
          break;
        }
        case 'resolve-submit':
          out.push(`resolve ${effect.submit.submitId}`);
          break;
        case 'plan-cascade':
          out.push(`plan cascade of ${effect.trigger.buildKey}`);
          break;
        case 'log':
        case 'metric':
          break;
        default: {
          const unknown: never = effect;
          throw new Error(`unknown effect ${JSON.stringify(unknown)}`);
        }
      }
    }
  };
  run(core.handle(input, now));
  return out;
}

function submitOf(submitId: string, project: string): BuildSubmit {
  return { v: 1, type: 'build.submit', submitId, project };
}

function resolved(targets: Target[]): ResolvedSubmit {
  return { commit: COMMIT, sourceUrl: 'file:///srv/sources', targets: targets.map((target) => planned(target)) };
}

function planned(target: Target): ResolvedSubmit['targets'][number] {
  return { target, kind: 'deb', runnerGroup: 'default' };
}

/** Submits a project (resolved to the targets) through both inputs, as the shell does. */
function submitted(core: SchedulerCore, world: World, submitId: string, project: string, targets: Target[], now = T0) {
  const submit = submitOf(submitId, project);
  assert.deepEqual(drive(core, { type: 'submit', submit }, now, world), [`resolve ${submitId}`]);
  return drive(core, { type: 'submit-resolved', submit, resolved: resolved(targets), receivedAt: now }, now, world);
}

/** An event of a runner or the collector about the build's current attempt. */
function eventOf(build: TrackedBuild, state: BuildState, service: 'runner' | 'collector'): BuildEvent {
  return {
    ...schedulerEvent(build, state, 'scheduler-1'),
    source: { service, instance: `${service}-1` },
    ...(service === 'runner' ? { runnerId: 'runner-1', leaseMs: 30_000 } : {}),
  };
}

/** A lib built and succeeded; its `published` from the collector (which starts a cascade). */
function publishedLib(core: SchedulerCore, world: World): BuildEvent {
  submitted(core, world, 's1', 'projects/lib', [X86]);
  const lib = buildOf(core, 'projects/lib@bookworm.x86_64');
  drive(core, { type: 'event', event: eventOf(lib, 'succeeded', 'runner') }, T0 + 10, world);
  return eventOf(lib, 'published', 'collector');
}

function buildOf(core: SchedulerCore, buildKey: string): TrackedBuild {
  const build = core.table.current(buildKey);
  assert.ok(build, `a build of ${buildKey}`);
  return build;
}

const coreOf = (): SchedulerCore => new SchedulerCore({ leaseMs: 30_000, maxAttempts: 3 });

describe('the scheduler core behind the input queue', () => {
  it('asks for the sources of a new submission outside the queue, and makes its builds when they come back', () => {
    const core = coreOf();
    const world: World = { runners: new Map([['default.x86_64', 1]]) };
    const submit = submitOf('s1', 'projects/a');
    assert.deepEqual(drive(core, { type: 'submit', submit }, T0, world), ['resolve s1']);
    assert.equal(core.table.size, 0, 'nothing decided before the sources are read');
    const out = drive(core, { type: 'submit-resolved', submit, resolved: resolved([X86]), receivedAt: T0 }, T0, world);
    assert.deepEqual(out, [
      'persist-submit s1',
      'persist projects/a@bookworm.x86_64',
      'submitted projects/a@bookworm.x86_64',
      'count default.x86_64',
      'queued projects/a@bookworm.x86_64',
      'request projects/a@bookworm.x86_64#1',
      'persist projects/a@bookworm.x86_64 dispatched',
    ]);
    // The same record again (its offset was not committed): no sources read, nothing sent twice.
    assert.deepEqual(drive(core, { type: 'submit', submit }, T0 + 5, world), []);
  });

  it('refuses a submission whose project path is malformed before anything is published', () => {
    const core = coreOf();
    assert.throws(
      () => core.handle({ type: 'submit', submit: submitOf('s1', '../outside') }, T0),
      (error: unknown) => error instanceof BuildfleetError,
    );
  });

  it('fails the targets of a submission that cannot be resolved, after its record is written', () => {
    const core = coreOf();
    const failure = new BuildfleetError('metadata-invalid', 'buildfleet.yml: kind: unknown');
    const submit = submitOf('s2', 'projects/broken');
    const out = drive(core, { type: 'submit-unresolvable', submit, failure, receivedAt: T0 }, T0, {
      runners: new Map(),
    });
    assert.deepEqual(out, [
      'persist-submit s2',
      'submitted projects/broken@unknown.unknown',
      'failed projects/broken@unknown.unknown',
    ]);
  });

  it('counts the runners of a group once a second for dispatches, and every time while it has none', () => {
    const core = coreOf();
    const world: World = { runners: new Map([['default.x86_64', 2]]) };
    const first = submitted(core, world, 's1', 'projects/a', [X86]);
    assert.ok(first.includes('count default.x86_64'));
    const second = submitted(core, world, 's2', 'projects/b', [X86], T0 + 999);
    assert.deepEqual(
      second.filter((line) => line.startsWith('count') || line.startsWith('queued')),
      ['queued projects/b@bookworm.x86_64'],
      'trusted the count of a second ago',
    );
    const third = submitted(core, world, 's3', 'projects/c', [X86], T0 + 1000);
    assert.ok(third.includes('count default.x86_64'), 'a count a second old is not trusted');

    const noArm = submitted(core, world, 's4', 'projects/d', [ARM], T0 + 1001);
    assert.ok(noArm.includes('waiting projects/d@bookworm.aarch64: no runner for default.aarch64'), noArm.join('\n'));
    const again = submitted(core, world, 's5', 'projects/e', [ARM], T0 + 1002);
    assert.ok(again.includes('count default.aarch64'), 'a group without runners is asked again');
  });

  it('tells a waiting build once, and `queued` once when a runner of its group comes', () => {
    const core = coreOf();
    const world: World = { runners: new Map() };
    submitted(core, world, 's1', 'projects/a', [ARM]);
    submitted(core, world, 's2', 'projects/b', [ARM]);
    // Ticks while no runner is there: counted each time, nothing told again.
    assert.deepEqual(drive(core, { type: 'tick' }, T0 + 1000, world), ['count default.aarch64']);
    assert.deepEqual(drive(core, { type: 'tick' }, T0 + 2000, world), ['count default.aarch64']);
    world.runners.set('default.aarch64', 1);
    assert.deepEqual(drive(core, { type: 'tick' }, T0 + 3000, world), [
      'count default.aarch64',
      'queued projects/a@bookworm.aarch64: a runner of default.aarch64 is there',
      'queued projects/b@bookworm.aarch64: a runner of default.aarch64 is there',
    ]);
    assert.deepEqual(drive(core, { type: 'tick' }, T0 + 4000, world), []);
  });

  it('sends a re-dispatch after a lease ran out once, though the tick finds the build twice', () => {
    const core = coreOf();
    const world: World = { runners: new Map([['default.x86_64', 1]]) };
    submitted(core, world, 's1', 'projects/a', [X86]);
    const build = buildOf(core, 'projects/a@bookworm.x86_64');
    drive(core, { type: 'event', event: eventOf(build, 'claimed', 'runner') }, T0 + 10, world);
    const out = drive(core, { type: 'tick' }, T0 + 10 + 30_001, world);
    assert.deepEqual(out, [
      'persist projects/a@bookworm.x86_64',
      'count default.x86_64',
      'queued projects/a@bookworm.x86_64: the lease of runner runner-1 ran out: attempt 2',
      'request projects/a@bookworm.x86_64#2',
      'persist projects/a@bookworm.x86_64 dispatched',
    ]);
  });

  it('keeps a build whose request topic is missing undispatched, and sends it at a tick once the topic exists', () => {
    const core = coreOf();
    const world: World = { runners: new Map([['default.x86_64', 1]]), missingTopics: new Set(['default.x86_64']) };
    const out = submitted(core, world, 's1', 'projects/a', [X86]);
    assert.ok(
      out.includes(
        'waiting projects/a@bookworm.x86_64: no request topic default.x86_64 (buildfleet topics ensure creates it)',
      ),
    );
    assert.equal(buildOf(core, 'projects/a@bookworm.x86_64').dispatched, false);
    world.missingTopics?.clear();
    const later = drive(core, { type: 'tick' }, T0 + 5000, world);
    assert.ok(later.includes('request projects/a@bookworm.x86_64#1'), later.join('\n'));
    assert.equal(buildOf(core, 'projects/a@bookworm.x86_64').dispatched, true);
  });

  it("takes a `published` that starts a cascade only when the cascade's plan comes back", () => {
    const core = coreOf();
    const world: World = { runners: new Map([['default.x86_64', 1]]) };
    const published = publishedLib(core, world);
    assert.deepEqual(drive(core, { type: 'event', event: published }, T0 + 20, world), [
      'plan cascade of projects/lib@bookworm.x86_64',
    ]);
    // Not taken yet: the same event still asks for the plan.
    const asked = core.handle({ type: 'event', event: published }, T0 + 21);
    assert.equal(asked[0]?.type, 'plan-cascade');
    assert.ok(asked[0]?.type === 'plan-cascade');
    const { trigger } = asked[0];
    const plan = { commit: COMMIT, sourceUrl: 'file:///srv/sources', targets: [] };
    drive(core, { type: 'cascade-planned', event: published, trigger, plan }, T0 + 30, world);
    assert.deepEqual(core.handle({ type: 'event', event: published }, T0 + 31), [], 'the cascade ran once');
  });

  it('takes the `published` without a cascade when the plan cannot be made', () => {
    const core = coreOf();
    const world: World = { runners: new Map([['default.x86_64', 1]]) };
    const published = publishedLib(core, world);
    const [asked] = core.handle({ type: 'event', event: published }, T0 + 20);
    assert.ok(asked?.type === 'plan-cascade');
    const failure = new BuildfleetError('source-commit-missing', 'gone');
    const effects = core.handle({ type: 'cascade-unplannable', event: published, trigger: asked.trigger, failure }, T0);
    assert.deepEqual(
      effects.map((e) => e.type),
      ['log', 'persist-build'],
      'logged, and the build is recorded published',
    );
  });
});
