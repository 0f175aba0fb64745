/**
 * The scheduler's decisions (DESIGN.md §4), as plain code over plain data: which submission is
 * new, which build it gives or reuses, which older build it supersedes, what an event from a
 * runner means for a lease, when a lease has run out and what follows. No I/O: every method
 * returns the effects for the shell to carry out. Tested in test/unit/scheduler-core.test.ts.
 */
import {
  buildKeyOf,
  isAttemptFinalState,
  isLeasedState,
  isOpenFailure,
  repoKeyOf,
  type BuildEvent,
  type BuildSubmit,
  type ErrorInfo,
} from '../../shared/messages/index.ts';
import { buildIdOf } from './build-id.ts';
import { cascadeEffects, cascadeSubmitId, type CascadePlan, type CascadeTrigger, type NewBuild } from './cascade.ts';
import { DependencyOrder } from './dependency-order.ts';
import type { SchedulerEffect } from './effects.ts';
import type { BuildOutcome, ResolvedSubmit, TrackedBuild } from './tracked-build.ts';

export interface BuildTableOptions {
  /** Lease given to runners in each request. */
  leaseMs: number;
  /**
   * Dispatches of one build (1 + re-dispatches after a lease expiry or a retriable failure)
   * before it fails: with `lease-expired`, or with the error of its last attempt.
   */
  maxAttempts: number;
  /** Submissions remembered for deduplication (oldest forgotten first). @default 200000 */
  rememberSubmits?: number;
  /**
   * How long a build waits for the submission of a dependency of its batch that has not arrived;
   * then it is built against what is published (nothing stays blocked for ever). @default 600000
   */
  dependencySubmitWaitMs?: number;
  /** Succeeded builds remembered until their `published` (for dependants). @default 100000 */
  rememberUnpublished?: number;
}

export type { ResolvedSubmit } from './tracked-build.ts';

export class BuildTable {
  /** Builds not done yet, by buildId. */
  private readonly active = new Map<string, TrackedBuild>();
  /** The active build of each build key. */
  private readonly byKey = new Map<string, TrackedBuild>();
  private readonly submits = new Map<string, string[]>();
  private readonly order: DependencyOrder;
  /** The last rebuild number given to each build key. */
  private readonly rebuildNumbers = new Map<string, number>();

  constructor(private readonly options: BuildTableOptions) {
    this.order = new DependencyOrder(
      {
        get: (buildId) => this.active.get(buildId),
        current: (buildKey) => this.byKey.get(buildKey),
        builds: () => this.active.values(),
        finish: (build, outcome) => this.finish(build, outcome),
      },
      {
        ...(options.dependencySubmitWaitMs === undefined ? {} : { submitWaitMs: options.dependencySubmitWaitMs }),
        ...(options.rememberUnpublished === undefined ? {} : { rememberUnpublished: options.rememberUnpublished }),
      },
    );
  }

  get size(): number {
    return this.active.size;
  }

  get(buildId: string): TrackedBuild | undefined {
    return this.active.get(buildId);
  }

  /** The builds a submission gave, when it was handled before. */
  submitted(submitId: string): string[] | undefined {
    return this.submits.get(submitId);
  }

  /**
   * Loads the state written before a restart. Running builds get a fresh lease from `now`.
   * Blocked builds are checked against what their dependencies became meanwhile: the effects
   * release or fail them.
   */
  restore(
    builds: Iterable<TrackedBuild>,
    submits: Iterable<[string, string[]]>,
    now: number,
    rebuilds: Iterable<[string, number]> = [],
  ): SchedulerEffect[] {
    for (const [submitId, buildIds] of submits) this.remember(submitId, buildIds);
    const noteRebuild = (buildKey: string, number: number): void => {
      if (number > (this.rebuildNumbers.get(buildKey) ?? 0)) this.rebuildNumbers.set(buildKey, number);
    };
    for (const [buildKey, number] of rebuilds) noteRebuild(buildKey, number);
    const ended = new Map<string, BuildOutcome | undefined>();
    for (const build of builds) {
      if (build.rebuild) noteRebuild(build.buildKey, build.rebuild.number);
      if (build.phase === 'done') {
        if (build.outcome === 'succeeded') this.order.rememberUnpublished({ ...build });
        else ended.set(build.buildId, build.outcome);
        this.order.restoreEnded(build);
        continue;
      }
      const restored = { ...build };
      if (restored.phase === 'running') restored.leaseUntil = now + restored.leaseMs;
      this.track(restored);
    }
    return this.order.restoreWaits(ended);
  }

  /**
   * A submission resolved to a commit and its targets. The same submitId again gives the same
   * builds; a build key already queued or running at the same commit is reused; one at another
   * commit is superseded by the new build.
   */
  submit(
    submit: BuildSubmit,
    resolved: ResolvedSubmit,
    now = Date.now(),
  ): { buildIds: string[]; effects: SchedulerEffect[] } {
    const known = this.submits.get(submit.submitId);
    if (known) {
      const effects: SchedulerEffect[] = [];
      for (const id of known) {
        const build = this.active.get(id);
        if (build && !build.dispatched && build.phase !== 'blocked') effects.push({ type: 'dispatch', build });
      }
      return { buildIds: known, effects };
    }
    const created: TrackedBuild[] = [];
    const buildIds: string[] = [];
    const persist: SchedulerEffect[] = [];
    const after: SchedulerEffect[] = [];
    const asRebuilds = submit.scope !== undefined && submit.scope !== 'package';
    for (const planned of resolved.targets) {
      const project = planned.project ?? submit.project;
      const buildKey = buildKeyOf(project, planned.target);
      const current = this.byKey.get(buildKey);
      if (current && current.commit === resolved.commit) {
        buildIds.push(current.buildId);
        after.push({ type: 'event', build: current, state: 'submitted', submitId: submit.submitId });
        continue;
      }
      const buildId = buildIdOf(submit.submitId, buildKey);
      const depWaits =
        submit.ignoreDeps === true ? { waits: [] } : this.order.waitsOf(planned, submit, resolved.commit);
      const waits = depWaits.failed ? [depWaits.failed.wait] : depWaits.waits;
      // A rebuild asked for (scope rebuild, dependants, all) of a key built before gets the next rebuild number.
      const rebuild =
        asRebuilds && (current !== undefined || this.order.builtBefore(buildKey))
          ? {
              number: this.nextRebuild(buildKey),
              because: waits.flatMap((w) => (w.buildId ? [{ project: w.project, buildId: w.buildId }] : [])),
            }
          : undefined;
      const made = this.add(
        {
          buildId,
          buildKey,
          project,
          planned,
          resolved,
          submitId: submit.submitId,
          waits,
          ...(rebuild ? { rebuild } : {}),
        },
        now,
        depWaits.failed === undefined,
      );
      persist.push(...made.persist);
      after.push(...made.after);
      created.push(...made.touched);
      buildIds.push(buildId);
      const build = made.build;
      // A dependency of its batch already failed at this commit: it fails at once, and so do its waiters.
      if (depWaits.failed) {
        after.push(...this.order.failBlocked(build, depWaits.failed.wait, shortWhy(depWaits.failed.why)));
      }
    }
    this.remember(submit.submitId, buildIds);
    const cycles = this.order.failCycles(created);
    return {
      buildIds,
      effects: [{ type: 'persist-submit', submitId: submit.submitId, buildIds }, ...persist, ...after, ...cycles],
    };
  }

  /**
   * A new build of a key: it supersedes the key's active build (its runner is asked to stop), and
   * builds that waited for that one, or for the key, wait for the new one. `tell`: its `waiting`
   * (or dispatch) follows; false when the caller ends it at once.
   */
  add(
    fields: NewBuild,
    now: number,
    tell = true,
  ): { build: TrackedBuild; persist: SchedulerEffect[]; after: SchedulerEffect[]; touched: TrackedBuild[] } {
    const { buildId, buildKey, planned, resolved, waits } = fields;
    const current = this.byKey.get(buildKey);
    const build: TrackedBuild = {
      buildId,
      buildKey,
      project: fields.project,
      target: planned.target,
      repoKey: repoKeyOf(fields.project, planned.target.dist),
      kind: planned.kind,
      runnerGroup: planned.runnerGroup,
      sourceUrl: resolved.sourceUrl,
      commit: resolved.commit,
      submitId: fields.submitId,
      attempt: 1,
      phase: waits.length > 0 ? 'blocked' : 'queued',
      dispatched: false,
      leaseMs: this.options.leaseMs,
      expiries: 0,
      createdAt: now,
      ...(waits.length > 0 ? { waitFor: waits } : {}),
      ...(fields.rebuild ? { rebuild: fields.rebuild } : {}),
    };
    const persist: SchedulerEffect[] = [];
    const after: SchedulerEffect[] = [];
    const touched: TrackedBuild[] = [build];
    if (current) {
      this.finish(current, 'failed');
      const by = fields.rebuild ? 'a rebuild' : `commit ${resolved.commit.slice(0, 12)}`;
      persist.push({ type: 'persist-build', build: current });
      after.push({
        type: 'event',
        build: current,
        state: 'superseded',
        reason: `superseded by ${by} (build ${buildId})`,
      });
      after.push({ type: 'cancel', buildId: current.buildId, reason: 'superseded' });
    }
    this.track(build);
    persist.push({ type: 'persist-build', build });
    if (fields.rebuild) persist.push({ type: 'persist-rebuild', buildKey, number: fields.rebuild.number });
    after.push({ type: 'event', build, state: 'submitted', submitId: fields.submitId });
    if (waits.length > 0 && tell) after.push(this.order.waitingEvent(build));
    else if (waits.length === 0) after.push({ type: 'dispatch', build });
    // Builds that waited for the build this one replaces, or for this key before it had a build.
    const rebound = [...(current ? this.order.waitersOf(current.buildId) : []), ...this.order.waitersOfKey(buildKey)];
    for (const waiterId of rebound) {
      const waiter = this.active.get(waiterId);
      const wait = waiter?.waitFor?.find((w) => w.buildKey === buildKey);
      if (!waiter || !wait) continue;
      this.order.bind(waiter, wait, build);
      persist.push({ type: 'persist-build', build: waiter });
      after.push(this.order.waitingEvent(waiter));
      touched.push(waiter);
    }
    return { build, persist, after, touched };
  }

  /** The active build of a key. */
  current(buildKey: string): TrackedBuild | undefined {
    return this.byKey.get(buildKey);
  }

  /** The next rebuild number of a key (one more than any given before). */
  nextRebuild(buildKey: string): number {
    const number = (this.rebuildNumbers.get(buildKey) ?? 0) + 1;
    this.rebuildNumbers.set(buildKey, number);
    return number;
  }

  /** A `published` a cascade starts from (issue 12): a build that is not itself a rebuild, whose cascade has not run. */
  cascadeTrigger(event: BuildEvent): CascadeTrigger | undefined {
    if (event.state !== 'published' || event.source.service === 'scheduler') return undefined;
    const known = this.order.publishedBuild(event.buildId, event.buildKey);
    if (!known || known.rebuild || this.submits.has(cascadeSubmitId(event.buildId))) return undefined;
    return {
      buildId: event.buildId,
      project: event.project,
      buildKey: event.buildKey,
      target: event.target,
      commit: known.commit,
      createdAt: known.createdAt,
    };
  }

  /** The rebuilds a published build makes (./cascade.ts). */
  cascade(trigger: CascadeTrigger, plan: CascadePlan, now: number): SchedulerEffect[] {
    return cascadeEffects(this, this.order, trigger, plan, now);
  }

  /**
   * Blocked builds that waited longer than dependencySubmitWaitMs for a dependency of their batch
   * that was never submitted stop waiting for it (and are built against what is published).
   */
  expireDependencyWaits(now: number): SchedulerEffect[] {
    return this.order.expire(now);
  }

  /** A submission that could not be resolved: builds of its batch waiting for its project fail. */
  submitFailed(project: string, why: string): SchedulerEffect[] {
    return this.order.submitFailed(project, why);
  }

  /** The request of the build's current attempt is out; `waiting` when no runner serves its topic. */
  dispatched(buildId: string, attempt: number, waiting: boolean, now: number): TrackedBuild | undefined {
    const build = this.active.get(buildId);
    if (!build || build.attempt !== attempt) return undefined;
    build.dispatched = true;
    build.dispatchedAt = now;
    if (build.phase === 'queued' || build.phase === 'waiting') build.phase = waiting ? 'waiting' : 'queued';
    return build;
  }

  /** A waiting build's runner group has members now. */
  runnerAppeared(buildId: string): TrackedBuild | undefined {
    const build = this.active.get(buildId);
    if (!build || build.phase !== 'waiting') return undefined;
    build.phase = 'queued';
    return build;
  }

  /** What an event from a runner (or the collector) means for the build. */
  onEvent(event: BuildEvent, now: number): SchedulerEffect[] {
    if (event.source.service === 'scheduler') return [];
    const build = this.active.get(event.buildId);
    if (!build) return this.order.onCollectorEvent(event) ?? [];
    if (event.state === 'succeeded') {
      // The first succeeded counts, whichever attempt it comes from; others are aborted.
      const otherAttemptRunning = event.attempt !== build.attempt && build.phase === 'running';
      this.finish(build, 'succeeded');
      const effects: SchedulerEffect[] = [{ type: 'persist-build', build }];
      if (otherAttemptRunning) {
        effects.push({ type: 'cancel', buildId: build.buildId, reason: 'an earlier attempt succeeded' });
      }
      return effects;
    }
    if (event.attempt !== build.attempt) return [];
    if (isOpenFailure(event) && event.error) return this.retryOrClose(build, event.error);
    if (isAttemptFinalState(event.state)) {
      this.finish(build, 'failed');
      return [{ type: 'persist-build', build }, ...this.order.dependencyEnded(build, whyEnded(event))];
    }
    if (isLeasedState(event.state)) {
      const changed = build.phase !== 'running' || build.runnerId !== event.runnerId;
      build.phase = 'running';
      build.leaseUntil = now + (event.leaseMs ?? build.leaseMs);
      if (event.runnerId !== undefined) build.runnerId = event.runnerId;
      return changed ? [{ type: 'persist-build', build }] : [];
    }
    return [];
  }

  /**
   * Leases that ran out: the build is dispatched again with attempt + 1, or fails after
   * maxAttempts, or ends `cancelled` when a cancel was asked for while it ran.
   */
  expireLeases(now: number): Array<{ build: TrackedBuild; runnerId: string | undefined; effects: SchedulerEffect[] }> {
    const expired: Array<{ build: TrackedBuild; runnerId: string | undefined; effects: SchedulerEffect[] }> = [];
    for (const build of this.active.values()) {
      if (build.phase !== 'running' || build.leaseUntil === undefined || build.leaseUntil > now) continue;
      const runnerId = build.runnerId;
      build.expiries += 1;
      const who = runnerId ? `runner ${runnerId}` : 'the runner';
      if (build.cancelRequested) {
        // Its runner was to end it with `cancelled` and is gone: a new attempt would build what was cancelled.
        this.finish(build, 'failed');
        expired.push({
          build,
          runnerId,
          effects: [
            { type: 'persist-build', build },
            { type: 'event', build, state: 'cancelled', reason: `cancelled; the lease of ${who} ran out` },
            ...this.order.dependencyEnded(build, 'was cancelled'),
          ],
        });
        continue;
      }
      if (build.attempt >= this.options.maxAttempts) {
        this.finish(build, 'failed');
        const message = `the lease of ${who} ran out on attempt ${build.attempt} of ${this.options.maxAttempts}`;
        expired.push({
          build,
          runnerId,
          effects: [
            { type: 'persist-build', build },
            { type: 'event', build, state: 'failed', error: { code: 'lease-expired', message } },
            ...this.order.dependencyEnded(build, `failed: [lease-expired] ${message}`),
          ],
        });
        continue;
      }
      expired.push({
        build,
        runnerId,
        effects: this.again(build, `the lease of ${who} ran out: attempt ${build.attempt + 1}`),
      });
    }
    return expired;
  }

  /**
   * A `failed` of the current attempt whose error is retriable (an open failure): dispatched
   * again with attempt + 1 while attempts are left. Otherwise it is closed with an end of the
   * same attempt, so that readers know nothing follows: `failed` (the error, no longer
   * retriable), or `cancelled` when a cancel was asked for while it ran.
   */
  private retryOrClose(build: TrackedBuild, error: ErrorInfo): SchedulerEffect[] {
    const { code, message } = error;
    const of = `attempt ${build.attempt} of ${this.options.maxAttempts}`;
    if (!build.cancelRequested && build.attempt < this.options.maxAttempts) {
      return this.again(
        build,
        `retrying: [${code}] ${message}, attempt ${build.attempt + 1} of ${this.options.maxAttempts}`,
      );
    }
    this.finish(build, 'failed');
    const closing: SchedulerEffect = build.cancelRequested
      ? { type: 'event', build, state: 'cancelled', reason: `cancelled; ${of} failed: [${code}] ${message}` }
      : {
          type: 'event',
          build,
          state: 'failed',
          error: { code, message, retriable: false },
          reason: `no attempt left: ${of}`,
        };
    return [
      { type: 'persist-build', build },
      closing,
      ...this.order.dependencyEnded(build, `failed: [${code}] ${message}`),
    ];
  }

  /** The build is dispatched again with attempt + 1 (after a lease expiry or a retriable failure). */
  private again(build: TrackedBuild, reason: string): SchedulerEffect[] {
    build.attempt += 1;
    build.phase = 'queued';
    build.dispatched = false;
    delete build.leaseUntil;
    delete build.runnerId;
    return [
      { type: 'persist-build', build },
      { type: 'dispatch', build, reason },
    ];
  }

  /** A cancel: a build no runner holds ends here; a running one is ended by its runner. */
  cancel(buildId: string, reason: string): SchedulerEffect[] {
    const build = this.active.get(buildId);
    if (!build) return [];
    if (build.phase === 'running') {
      build.cancelRequested = true;
      // Kept across a restart: a lease that runs out after the cancel ends the build (expireLeases).
      return [{ type: 'persist-build', build }];
    }
    this.finish(build, 'failed');
    return [
      { type: 'persist-build', build },
      { type: 'event', build, state: 'cancelled', reason },
      ...this.order.dependencyEnded(build, `was cancelled (${reason})`),
    ];
  }

  /**
   * Builds whose current attempt has not been published yet (after a restart or a failed publish);
   * blocked builds are dispatched when their dependencies are published, not before.
   */
  undispatched(): TrackedBuild[] {
    return [...this.active.values()].filter((b) => !b.dispatched && b.phase !== 'blocked');
  }

  waiting(): TrackedBuild[] {
    return [...this.active.values()].filter((b) => b.phase === 'waiting');
  }

  /** Counts of active builds by phase, for metrics and logs. */
  phases(): Record<'blocked' | 'waiting' | 'queued' | 'running', number> {
    const counts = { blocked: 0, waiting: 0, queued: 0, running: 0 };
    for (const b of this.active.values()) if (b.phase !== 'done') counts[b.phase] += 1;
    return counts;
  }

  private finish(build: TrackedBuild, outcome: BuildOutcome): void {
    build.phase = 'done';
    build.outcome = outcome;
    delete build.leaseUntil;
    this.untrack(build);
    if (outcome === 'succeeded') this.order.rememberUnpublished(build);
  }

  private track(build: TrackedBuild): void {
    this.active.set(build.buildId, build);
    this.byKey.set(build.buildKey, build);
    this.order.tracked(build);
  }

  private untrack(build: TrackedBuild): void {
    this.active.delete(build.buildId);
    if (this.byKey.get(build.buildKey) === build) this.byKey.delete(build.buildKey);
    this.order.untracked(build);
  }

  remember(submitId: string, buildIds: string[]): void {
    this.submits.delete(submitId);
    this.submits.set(submitId, buildIds);
    const limit = this.options.rememberSubmits ?? 200_000;
    while (this.submits.size > limit) {
      const oldest = this.submits.keys().next().value;
      if (oldest === undefined) break;
      this.submits.delete(oldest);
    }
  }
}

/** How an end event of a build is quoted to its dependants: `failed: [code] message`. */
function whyEnded(event: BuildEvent): string {
  return `${event.state}${event.error ? `: [${event.error.code}] ${event.error.message}` : ''}`;
}

/** `failed: <why>` as the dependency's failure is quoted to its dependants. */
function shortWhy(why: string): string {
  return `failed: ${why}`;
}
