/**
 * The scheduler's decisions (DESIGN.md §4), as plain code over plain data: which submission is
 * new, which build it gives or reuses, which older build it supersedes, what an event from a
 * runner means for a lease, when a lease has run out and what follows. No I/O: every method
 * returns the effects for the shell to carry out. Tested in test/unit/scheduler-core.test.ts.
 */
import {
  buildKeyOf,
  isAttemptFinalState,
  isEndState,
  repoKeyOf,
  type BuildEvent,
  type BuildSubmit,
} from '../../shared/messages/index.ts';
import { buildIdOf } from './build-id.ts';
import { cycleText, cycleThrough, WaitIndex, waitReason, waitedBuildIds } from './dependency-waits.ts';
import type { SchedulerEffect } from './effects.ts';
import type { BuildOutcome, DependencyWait, PlannedTarget, TrackedBuild } from './tracked-build.ts';

export interface BuildTableOptions {
  /** Lease given to runners in each request. */
  leaseMs: number;
  /** Dispatches of one build (1 + re-dispatches after lease expiry) before it fails with `lease-expired`. */
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

export interface ResolvedSubmit {
  commit: string;
  sourceUrl: string;
  targets: PlannedTarget[];
}

const LEASED = new Set(['claimed', 'preparing', 'building', 'uploading', 'heartbeat']);

export class BuildTable {
  /** Builds not done yet, by buildId. */
  private readonly active = new Map<string, TrackedBuild>();
  /** The active build of each build key. */
  private readonly byKey = new Map<string, TrackedBuild>();
  private readonly submits = new Map<string, string[]>();
  /** Succeeded builds whose packages are not published yet: dependants wait for their `published`. */
  private readonly unpublished = new Map<string, TrackedBuild>();
  private readonly unpublishedByKey = new Map<string, TrackedBuild>();
  private readonly waits = new WaitIndex();

  constructor(private readonly options: BuildTableOptions) {}

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
  restore(builds: Iterable<TrackedBuild>, submits: Iterable<[string, string[]]>, now: number): SchedulerEffect[] {
    for (const [submitId, buildIds] of submits) this.remember(submitId, buildIds);
    const ended = new Map<string, BuildOutcome | undefined>();
    for (const build of builds) {
      if (build.phase === 'done') {
        if (build.outcome === 'succeeded') this.rememberUnpublished({ ...build });
        else ended.set(build.buildId, build.outcome);
        continue;
      }
      const restored = { ...build };
      if (restored.phase === 'running') restored.leaseUntil = now + restored.leaseMs;
      this.track(restored);
    }
    const effects: SchedulerEffect[] = [];
    for (const build of [...this.active.values()]) {
      if (build.phase !== 'blocked' || !this.active.has(build.buildId)) continue;
      for (const wait of [...(build.waitFor ?? [])]) {
        if (wait.buildId === undefined) {
          const current = this.byKey.get(wait.buildKey);
          if (current) this.bind(build, wait, current);
          continue;
        }
        if (this.active.has(wait.buildId) || this.unpublished.has(wait.buildId)) continue;
        // Published, or no longer known (then what is published is all there is): no more waiting.
        if (ended.get(wait.buildId) !== 'failed') {
          effects.push(...this.release(build, wait.buildId, 'published'));
          continue;
        }
        effects.push(...this.failBlocked(build, wait, 'ended without being published'));
        break;
      }
    }
    return effects;
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
    for (const planned of resolved.targets) {
      const buildKey = buildKeyOf(submit.project, planned.target);
      const current = this.byKey.get(buildKey);
      if (current && current.commit === resolved.commit) {
        buildIds.push(current.buildId);
        after.push({ type: 'event', build: current, state: 'submitted', submitId: submit.submitId });
        continue;
      }
      const buildId = buildIdOf(submit.submitId, buildKey);
      const waits = submit.ignoreDeps === true ? [] : this.waitsOf(planned, submit);
      const build: TrackedBuild = {
        buildId,
        buildKey,
        project: submit.project,
        target: planned.target,
        repoKey: repoKeyOf(submit.project, planned.target.dist),
        kind: planned.kind,
        runnerGroup: planned.runnerGroup,
        sourceUrl: resolved.sourceUrl,
        commit: resolved.commit,
        submitId: submit.submitId,
        attempt: 1,
        phase: waits.length > 0 ? 'blocked' : 'queued',
        dispatched: false,
        leaseMs: this.options.leaseMs,
        expiries: 0,
        createdAt: now,
        ...(waits.length > 0 ? { waitFor: waits } : {}),
      };
      if (current) {
        this.finish(current, 'failed');
        const reason = `superseded by commit ${resolved.commit.slice(0, 12)} (build ${buildId})`;
        persist.push({ type: 'persist-build', build: current });
        after.push({ type: 'event', build: current, state: 'superseded', reason });
        after.push({ type: 'cancel', buildId: current.buildId, reason: 'superseded' });
      }
      this.track(build);
      created.push(build);
      buildIds.push(buildId);
      persist.push({ type: 'persist-build', build });
      after.push({ type: 'event', build, state: 'submitted', submitId: submit.submitId });
      if (waits.length > 0) after.push(this.waitingEvent(build));
      else after.push({ type: 'dispatch', build });
      // Builds that waited for the build this one replaces, or for this key before it had a build.
      const rebound = [
        ...(current ? this.waits.waitingFor(current.buildId) : []),
        ...this.waits.waitingForKey(buildKey),
      ];
      for (const waiterId of rebound) {
        const waiter = this.active.get(waiterId);
        const wait = waiter?.waitFor?.find((w) => w.buildKey === buildKey);
        if (!waiter || !wait) continue;
        this.bind(waiter, wait, build);
        persist.push({ type: 'persist-build', build: waiter });
        after.push(this.waitingEvent(waiter));
        created.push(waiter);
      }
    }
    this.remember(submit.submitId, buildIds);
    const cycles = this.failCycles(created);
    return {
      buildIds,
      effects: [{ type: 'persist-submit', submitId: submit.submitId, buildIds }, ...persist, ...after, ...cycles],
    };
  }

  /**
   * The waits of a new build: each dependency with a build not published yet (queued, running,
   * or succeeded and not in its repository yet), or of the same batch and not submitted yet.
   * Other dependencies are built against what is published.
   */
  private waitsOf(planned: PlannedTarget, submit: BuildSubmit): DependencyWait[] {
    const waits: DependencyWait[] = [];
    const batch = new Set(submit.batch ?? []);
    for (const dependency of planned.dependencies ?? []) {
      const current = this.byKey.get(dependency.buildKey) ?? this.unpublishedByKey.get(dependency.buildKey);
      const wait = { project: dependency.project, buildKey: dependency.buildKey, packages: dependency.packages };
      if (current) waits.push({ ...wait, buildId: current.buildId });
      else if (batch.has(dependency.project)) waits.push(wait);
    }
    return waits;
  }

  /** A wait for a key gets its build (a new submission, or the build that superseded the awaited one). */
  private bind(waiter: TrackedBuild, wait: DependencyWait, dependency: TrackedBuild): void {
    this.waits.remove(waiter);
    wait.buildId = dependency.buildId;
    this.waits.add(waiter);
  }

  private waitingEvent(build: TrackedBuild): SchedulerEffect {
    const waits = build.waitFor ?? [];
    return { type: 'event', build, state: 'waiting', reason: waitReason(waits), waitingFor: waitedBuildIds(build) };
  }

  /** Builds (among `touched`) whose waits go round in a circle fail with the cycle: nothing could start. */
  private failCycles(touched: readonly TrackedBuild[]): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    for (const build of touched) {
      if (build.phase !== 'blocked') continue;
      const cycle = cycleThrough(build, (id) => this.active.get(id));
      if (!cycle) continue;
      const text = cycleText(cycle);
      const message =
        `dependency cycle: ${text}; build one of them with \`buildfleet build --ignore-deps\` ` +
        'against what is published, then the others';
      // Every member reports the cycle itself; only builds outside it fail as dependants.
      const members = cycle.filter((member) => member.phase !== 'done');
      for (const member of members) {
        this.finish(member, 'failed');
        effects.push(
          { type: 'persist-build', build: member },
          { type: 'event', build: member, state: 'failed', error: { code: 'dependency-cycle', message } },
        );
      }
      for (const member of members) effects.push(...this.dependencyEnded(member, `failed: [dependency-cycle] ${text}`));
    }
    return effects;
  }

  /**
   * A dependency's build is published: the waiter stops waiting for it, and is dispatched when it
   * waits for nothing else.
   */
  private release(waiter: TrackedBuild, dependencyId: string, how: string): SchedulerEffect[] {
    this.waits.remove(waiter);
    waiter.waitFor = (waiter.waitFor ?? []).filter((w) => w.buildId !== dependencyId);
    if (waiter.waitFor.length > 0) {
      this.waits.add(waiter);
      return [{ type: 'persist-build', build: waiter }, this.waitingEvent(waiter)];
    }
    delete waiter.waitFor;
    waiter.phase = 'queued';
    return [
      { type: 'persist-build', build: waiter },
      { type: 'dispatch', build: waiter, reason: `dependencies ${how}` },
    ];
  }

  /** A blocked build whose dependency ended without being published fails without running. */
  private failBlocked(waiter: TrackedBuild, wait: DependencyWait, why: string): SchedulerEffect[] {
    const message = `dependency ${wait.project} (build ${wait.buildId ?? 'not submitted'}) ${why}`;
    return this.end(waiter, { code: 'dependency-failed', message });
  }

  /** Ends a build that no runner holds with `failed`, and every build that waits for it. */
  private end(build: TrackedBuild, error: { code: string; message: string }): SchedulerEffect[] {
    this.finish(build, 'failed');
    return [
      { type: 'persist-build', build },
      { type: 'event', build, state: 'failed', error },
      ...this.dependencyEnded(build, `failed: [${error.code}] ${error.message}`),
    ];
  }

  /** The builds waiting for `dependency` fail: it will never be published. */
  private dependencyEnded(dependency: TrackedBuild, why: string): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    for (const waiterId of this.waits.waitingFor(dependency.buildId)) {
      const waiter = this.active.get(waiterId);
      const wait = waiter?.waitFor?.find((w) => w.buildId === dependency.buildId);
      if (!waiter || !wait || waiter.phase !== 'blocked') continue;
      effects.push(...this.failBlocked(waiter, wait, shorten(why)));
    }
    return effects;
  }

  /** The build's packages are in their repository: its dependants go on. */
  private published(build: TrackedBuild): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    if (build.phase !== 'done') this.finish(build, 'published');
    else build.outcome = 'published';
    this.forgetUnpublished(build);
    effects.push({ type: 'persist-build', build });
    for (const waiterId of this.waits.waitingFor(build.buildId)) {
      const waiter = this.active.get(waiterId);
      if (waiter && waiter.phase === 'blocked') effects.push(...this.release(waiter, build.buildId, 'published'));
    }
    return effects;
  }

  /**
   * Blocked builds that waited longer than dependencySubmitWaitMs for a dependency of their batch
   * that was never submitted stop waiting for it (and are built against what is published).
   */
  expireDependencyWaits(now: number): SchedulerEffect[] {
    const limit = this.options.dependencySubmitWaitMs ?? 600_000;
    const effects: SchedulerEffect[] = [];
    for (const build of [...this.active.values()]) {
      if (build.phase !== 'blocked' || now - (build.createdAt ?? now) < limit) continue;
      const unbound = (build.waitFor ?? []).filter((w) => w.buildId === undefined);
      if (unbound.length === 0) continue;
      this.waits.remove(build);
      build.waitFor = (build.waitFor ?? []).filter((w) => w.buildId !== undefined);
      if (build.waitFor.length > 0) {
        this.waits.add(build);
        effects.push({ type: 'persist-build', build }, this.waitingEvent(build));
        continue;
      }
      delete build.waitFor;
      build.phase = 'queued';
      const names = unbound.map((w) => w.project).join(', ');
      effects.push(
        { type: 'persist-build', build },
        { type: 'dispatch', build, reason: `${names} of its batch never submitted: built against what is published` },
      );
    }
    return effects;
  }

  /** A submission that could not be resolved: builds of its batch waiting for its project fail. */
  submitFailed(project: string, why: string): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    for (const build of [...this.active.values()]) {
      if (build.phase !== 'blocked') continue;
      const wait = build.waitFor?.find((w) => w.buildId === undefined && w.project === project);
      if (wait) effects.push(...this.failBlocked(build, wait, `could not be submitted: ${shorten(why)}`));
    }
    return effects;
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
    if (!build) {
      // The collector's word on a succeeded build: published, or failed (an artifact missing).
      const succeeded = this.unpublished.get(event.buildId);
      if (!succeeded) return [];
      if (event.state === 'published') return this.published(succeeded);
      if (!isEndState(event.state)) return [];
      succeeded.outcome = 'failed';
      this.forgetUnpublished(succeeded);
      const why = `failed to publish: [${event.error?.code ?? event.state}] ${event.error?.message ?? ''}`;
      return [{ type: 'persist-build', build: succeeded }, ...this.dependencyEnded(succeeded, why)];
    }
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
    if (isAttemptFinalState(event.state)) {
      this.finish(build, 'failed');
      const why = `${event.state}${event.error ? `: [${event.error.code}] ${event.error.message}` : ''}`;
      return [{ type: 'persist-build', build }, ...this.dependencyEnded(build, why)];
    }
    if (LEASED.has(event.state)) {
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
            ...this.dependencyEnded(build, 'was cancelled'),
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
            ...this.dependencyEnded(build, `failed: [lease-expired] ${message}`),
          ],
        });
        continue;
      }
      build.attempt += 1;
      build.phase = 'queued';
      build.dispatched = false;
      delete build.leaseUntil;
      delete build.runnerId;
      const reason = `the lease of ${who} ran out: attempt ${build.attempt}`;
      expired.push({
        build,
        runnerId,
        effects: [
          { type: 'persist-build', build },
          { type: 'dispatch', build, reason },
        ],
      });
    }
    return expired;
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
      ...this.dependencyEnded(build, `was cancelled (${reason})`),
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
    if (outcome === 'succeeded') this.rememberUnpublished(build);
  }

  private track(build: TrackedBuild): void {
    this.active.set(build.buildId, build);
    this.byKey.set(build.buildKey, build);
    this.waits.add(build);
  }

  private untrack(build: TrackedBuild): void {
    this.active.delete(build.buildId);
    if (this.byKey.get(build.buildKey) === build) this.byKey.delete(build.buildKey);
    this.waits.remove(build);
  }

  private rememberUnpublished(build: TrackedBuild): void {
    const older = this.unpublishedByKey.get(build.buildKey);
    if (older) this.unpublished.delete(older.buildId);
    this.unpublished.set(build.buildId, build);
    this.unpublishedByKey.set(build.buildKey, build);
    const limit = this.options.rememberUnpublished ?? 100_000;
    while (this.unpublished.size > limit) {
      const oldest = this.unpublished.values().next().value;
      if (oldest === undefined) break;
      this.forgetUnpublished(oldest);
    }
  }

  private forgetUnpublished(build: TrackedBuild): void {
    this.unpublished.delete(build.buildId);
    if (this.unpublishedByKey.get(build.buildKey) === build) this.unpublishedByKey.delete(build.buildKey);
  }

  private remember(submitId: string, buildIds: string[]): void {
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

/** Reasons quote the dependency's own error; a long chain of them is cut. */
function shorten(text: string): string {
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
