/**
 * The scheduler's core: all its state (the build table, what was told of each build, which
 * runner groups were seen with runners) and every decision, as plain code over plain data. The
 * shell (scheduler/scheduler.ts) feeds it one input at a time from its queue and carries out the
 * effects it returns, in order; the answers of fast I/O (a runner count, a request sent) come
 * back at once within the same input, slow I/O (git) comes back later as a queued input.
 * Tested in test/unit/scheduler-shell-core.test.ts.
 */
import type { BuildfleetError } from '../../shared/errors/index.ts';
import { buildKeyOf, repoKeyOf, type BuildEvent, type BuildSubmit } from '../../shared/messages/index.ts';
import { targetsOfFailedSubmit } from '../messages-out.ts';
import { buildIdOf } from './build-id.ts';
import { BuildTable, type BuildTableOptions, type ResolvedSubmit } from './build-table.ts';
import type { CascadePlan, CascadeTrigger } from './cascade.ts';
import { isPersist, type RunnerPool, type SchedulerEffect } from './effects.ts';
import type { Answer, CoreEffect, SchedulerInput } from './inputs.ts';
import type { TrackedBuild } from './tracked-build.ts';

/** How long a dispatch trusts that a runner group it saw with members still has some. */
const RUNNERS_SEEN_MS = 1000;

/** A submission handled before resolves to nothing new: its builds are known. */
const KNOWN_SUBMIT: ResolvedSubmit = { commit: '', sourceUrl: '', targets: [] };

export class SchedulerCore {
  readonly table: BuildTable;
  /** What was told last of each build (`state:reason`), so that the timer does not repeat it. */
  private readonly told = new Map<string, string>();
  /**
   * Runner groups seen with runners, and when: a dispatch trusts that for RUNNERS_SEEN_MS instead
   * of asking the broker for every build (a describe-group round trip). A group with none is
   * asked again every time, and the check of waiting builds does without this.
   */
  private readonly runnersSeen = new Map<string, number>();

  constructor(options: BuildTableOptions) {
    this.table = new BuildTable(options);
  }

  /** The effects of one input (or of an answer within the input in hand), for the shell, in order. */
  handle(input: SchedulerInput, now: number): CoreEffect[] {
    switch (input.type) {
      case 'restore':
        return this.table.restore(input.builds, input.submits, now, input.rebuilds);
      case 'submit':
        return this.submit(input.submit, now);
      case 'submit-resolved':
        return this.submitResolved(input.submit, input.resolved, input.receivedAt, now);
      case 'submit-unresolvable':
        return this.submitFailed(input.submit, input.failure);
      case 'event': {
        // The cascade's plan is made before the event changes the table: the builds its
        // `published` releases are then still undispatched, and the cascade can make them wait.
        const trigger = this.table.cascadeTrigger(input.event);
        if (trigger) return [{ type: 'plan-cascade', event: input.event, trigger }];
        return this.event(input.event, undefined, now);
      }
      case 'cascade-planned':
        return this.event(input.event, { trigger: input.trigger, plan: input.plan }, now);
      case 'cascade-unplannable':
        return [
          {
            type: 'log',
            level: 'error',
            message: 'scheduler: the rebuilds of dependants cannot be planned; none are made for this build',
            fields: { buildId: input.trigger.buildId, project: input.trigger.project, err: input.failure },
          },
          ...this.event(input.event, undefined, now),
        ];
      case 'cancel': {
        const effects = this.table.cancel(input.cancel.buildId, input.cancel.reason);
        if (!this.table.get(input.cancel.buildId)) this.told.delete(input.cancel.buildId);
        return effects;
      }
      case 'tick':
        return this.tick(now);
      case 'dispatch-due':
      case 'runners-counted':
      case 'request-sent':
      case 'request-topic-missing':
      case 'waiting-due':
        return this.answer(input, now);
      default: {
        const unknown: never = input;
        throw new Error(`unknown scheduler input ${JSON.stringify(unknown)}`);
      }
    }
  }

  private answer(answer: Answer, now: number): CoreEffect[] {
    switch (answer.type) {
      case 'dispatch-due':
        return this.dispatchDue(answer.build, answer.reason, now);
      case 'runners-counted': {
        if (answer.purpose === 'waiting') return this.runnersAppeared(answer.pools, answer.counts);
        const pool = answer.pools[0];
        const count = answer.counts[0] ?? 1;
        if (pool && count > 0) this.runnersSeen.set(poolKey(pool), now);
        else if (pool) this.runnersSeen.delete(poolKey(pool));
        return this.send(answer.purpose.dispatch, answer.purpose.reason, count === 0);
      }
      case 'request-sent': {
        const dispatched = this.table.dispatched(answer.build.buildId, answer.attempt, answer.waiting, now);
        return dispatched ? [{ type: 'persist-build', build: dispatched }] : [];
      }
      case 'request-topic-missing':
        // Kept undispatched: the timer sends it once the topic exists.
        return this.tell(
          answer.build,
          'waiting',
          `no request topic ${answer.topic} (buildfleet topics ensure creates it)`,
        );
      case 'waiting-due': {
        const pools = new Map<string, RunnerPool>();
        for (const build of this.table.waiting()) pools.set(poolKey(poolOf(build)), poolOf(build));
        if (pools.size === 0) return [this.queueDepth()];
        return [{ type: 'count-runners', pools: [...pools.values()], purpose: 'waiting' }];
      }
      default: {
        const unknown: never = answer;
        throw new Error(`unknown answer ${JSON.stringify(unknown)}`);
      }
    }
  }

  private submit(submit: BuildSubmit, now: number): CoreEffect[] {
    if (this.table.submitted(submit.submitId) !== undefined) {
      return this.submitResolved(submit, KNOWN_SUBMIT, now, now);
    }
    // The decoder refused a bad project path already (input-limits.ts, the same rule as the keys);
    // kept as the last guard before anything is published: it would go to the dead-letter topic.
    buildKeyOf(submit.project, { dist: 'd', arch: 'a' });
    return [{ type: 'resolve-submit', submit, receivedAt: now }];
  }

  private submitResolved(submit: BuildSubmit, resolved: ResolvedSubmit, receivedAt: number, now: number) {
    const { buildIds, effects } = this.table.submit(submit, resolved, now);
    const handled: CoreEffect = {
      type: 'log',
      level: 'info',
      message: 'scheduler: submission handled',
      fields: { submitId: submit.submitId, project: submit.project, buildIds },
      since: receivedAt,
    };
    return [...effects, handled];
  }

  /** A submission that cannot be built: each target it names (or a stand-in) ends `failed` with the reason. */
  private submitFailed(submit: BuildSubmit, failure: BuildfleetError): CoreEffect[] {
    const builds = targetsOfFailedSubmit(submit.targets).map((target) => {
      const buildKey = buildKeyOf(submit.project, target);
      return {
        buildId: buildIdOf(submit.submitId, buildKey),
        attempt: 1,
        buildKey,
        project: submit.project,
        target,
        repoKey: repoKeyOf(submit.project, target.dist),
        commit: '',
      };
    });
    const error = { code: failure.code, message: failure.message };
    const { submitId } = submit;
    return [
      { type: 'persist-submit', submitId, buildIds: builds.map((b) => b.buildId) },
      ...builds.flatMap((build): CoreEffect[] => [
        { type: 'event', build, state: 'submitted', submitId },
        { type: 'event', build, state: 'failed', submitId, error },
      ]),
      // Builds of its batch that waited for this package's build fail instead of waiting.
      ...this.table.submitFailed(submit.project, `[${failure.code}] ${failure.message}`),
      {
        type: 'log',
        level: 'warn',
        message: 'scheduler: submission failed',
        fields: { submitId, project: submit.project, err: failure },
      },
    ];
  }

  private event(
    event: BuildEvent,
    cascade: { trigger: CascadeTrigger; plan: CascadePlan } | undefined,
    now: number,
  ): CoreEffect[] {
    const before = this.table.get(event.buildId);
    const dispatchedAt = before?.dispatchedAt;
    const effects = this.table.onEvent(event, now);
    if (cascade) effects.push(...this.table.cascade(cascade.trigger, cascade.plan, now));
    const out: CoreEffect[] = [];
    if (event.state === 'claimed' && before && dispatchedAt !== undefined && event.attempt === before.attempt) {
      const seconds = (now - dispatchedAt) / 1000;
      out.push({ type: 'metric', metric: 'dispatch-latency', runnerGroup: before.runnerGroup, seconds });
    }
    if (before && this.table.get(event.buildId) === undefined) this.told.delete(event.buildId);
    out.push(...statesFirst(effects));
    if (cascade && cascade.plan.targets.length > 0) {
      const { trigger } = cascade;
      out.push({
        type: 'log',
        level: 'info',
        message: 'scheduler: cascade of rebuilds planned',
        fields: { buildId: trigger.buildId, project: trigger.project, dependants: cascade.plan.targets.length },
      });
    }
    return out;
  }

  /** Leases that ran out, dependency waits that ran out, builds not dispatched yet, waiting builds. */
  private tick(now: number): CoreEffect[] {
    const effects: CoreEffect[] = [];
    for (const { build, effects: expired } of this.table.expireLeases(now)) {
      effects.push(
        { type: 'metric', metric: 'lease-expiry', runnerGroup: build.runnerGroup },
        {
          type: 'log',
          level: 'warn',
          message: 'scheduler: lease ran out',
          fields: { buildId: build.buildId, attempt: build.attempt },
        },
        ...expired,
      );
      if (build.phase === 'done') this.told.delete(build.buildId);
    }
    effects.push(...this.table.expireDependencyWaits(now));
    const dispatching = new Set(effects.flatMap((e) => (e.type === 'dispatch' ? [e.build.buildId] : [])));
    for (const build of this.table.undispatched()) {
      if (!dispatching.has(build.buildId)) effects.push({ type: 'dispatch', build });
    }
    effects.push({ type: 'check-waiting' });
    return effects;
  }

  /** A dispatch the shell has reached: sent unless it was sent or made to wait meanwhile. */
  private dispatchDue(build: TrackedBuild, reason: string | undefined, now: number): CoreEffect[] {
    if (build.dispatched || build.phase === 'done' || build.phase === 'blocked') return [];
    const pool = poolOf(build);
    const seen = this.runnersSeen.get(poolKey(pool));
    if (seen !== undefined && now - seen < RUNNERS_SEEN_MS) return this.send(build, reason, false);
    return [{ type: 'count-runners', pools: [pool], purpose: { dispatch: build, attempt: build.attempt, reason } }];
  }

  /** `queued` (or `waiting`, when no runner serves its topic), then the request of the build's attempt. */
  private send(build: TrackedBuild, reason: string | undefined, waiting: boolean): CoreEffect[] {
    const noRunner = `no runner for ${build.runnerGroup}.${build.target.arch}`;
    return [
      ...this.tell(build, waiting ? 'waiting' : 'queued', waiting ? noRunner : reason),
      { type: 'request', build, attempt: build.attempt, waiting },
    ];
  }

  /** Waiting builds whose runner group has members now become `queued`. */
  private runnersAppeared(pools: RunnerPool[], counts: number[]): CoreEffect[] {
    const byPool = new Map(pools.map((pool, i) => [poolKey(pool), counts[i] ?? 1]));
    const effects: CoreEffect[] = [];
    for (const build of this.table.waiting()) {
      const count = byPool.get(poolKey(poolOf(build))) ?? 0;
      if (count > 0 && this.table.runnerAppeared(build.buildId)) {
        effects.push(...this.tell(build, 'queued', `a runner of ${build.runnerGroup}.${build.target.arch} is there`));
      }
    }
    effects.push(this.queueDepth());
    return effects;
  }

  /** `queued` / `waiting`, unless this very state and reason was told last for the build. */
  private tell(build: TrackedBuild, state: 'queued' | 'waiting', reason: string | undefined): SchedulerEffect[] {
    const what = `${state}:${reason ?? ''}`;
    if (this.told.get(build.buildId) === what) return [];
    this.told.set(build.buildId, what);
    return [{ type: 'event', build, state, submitId: build.submitId, ...(reason ? { reason } : {}) }];
  }

  private queueDepth(): CoreEffect {
    const phases = this.table.phases();
    return { type: 'metric', metric: 'queue-depth', depth: phases.queued + phases.waiting };
  }
}

/**
 * The state writes of a list of effects first, then the rest in order: what a cascade decided is
 * durable before any of it (or of the `published` that started it) is told.
 */
function statesFirst(effects: SchedulerEffect[]): SchedulerEffect[] {
  return [...effects.filter((e) => isPersist(e)), ...effects.filter((e) => !isPersist(e))];
}

function poolOf(build: TrackedBuild): RunnerPool {
  return { runnerGroup: build.runnerGroup, arch: build.target.arch };
}

function poolKey(pool: RunnerPool): string {
  return `${pool.runnerGroup}.${pool.arch}`;
}
