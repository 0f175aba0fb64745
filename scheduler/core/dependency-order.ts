/**
 * Dependency order (issue 11): which dependencies a new build waits for, what a dependency's
 * `published` or failure means for the builds waiting for it, cycles of waits, and the
 * succeeded builds whose `published` dependants wait for. Plain data and effects, no I/O; the
 * build table (./build-table.ts) owns the builds and calls in here.
 */
import { isEndState, type BuildEvent, type BuildSubmit } from '../../shared/messages/index.ts';
import { cycleText, cycleThrough, WaitIndex, waitReason, waitedBuildIds } from './dependency-waits.ts';
import type { SchedulerEffect } from './effects.ts';
import type { BuildOutcome, DependencyWait, PlannedTarget, TrackedBuild } from './tracked-build.ts';

/** What the dependency order needs of the build table. */
export interface TableAccess {
  get(buildId: string): TrackedBuild | undefined;
  /** The active build of a build key. */
  current(buildKey: string): TrackedBuild | undefined;
  builds(): Iterable<TrackedBuild>;
  /** Ends a build: phase done with the outcome, no longer active. */
  finish(build: TrackedBuild, outcome: BuildOutcome): void;
}

export interface DependencyOrderOptions {
  /** How long a build waits for a dependency of its batch that was never submitted. @default 600000 */
  submitWaitMs?: number;
  /** Succeeded builds remembered until their `published`. @default 100000 */
  rememberUnpublished?: number;
}

interface LastEnded {
  buildId: string;
  commit: string;
  /** It was a rebuild of a cascade (its publish starts none). */
  rebuild: boolean;
  outcome: 'published' | 'failed';
  why?: string;
  createdAt: number;
}

/** The waits of a new build, or the dependency of its batch that already failed at its commit. */
export interface NewBuildWaits {
  waits: DependencyWait[];
  failed?: { wait: DependencyWait; why: string };
}

export class DependencyOrder {
  /** Succeeded builds whose packages are not published yet: dependants wait for their `published`. */
  private readonly unpublished = new Map<string, TrackedBuild>();
  private readonly unpublishedByKey = new Map<string, TrackedBuild>();
  private readonly waits = new WaitIndex();
  /**
   * How the latest build of each key ended, with its commit: a batch dependency that was built
   * from the same commit before its dependant's submission arrived is not waited for again.
   */
  private readonly lastEnded = new Map<string, LastEnded>();

  constructor(
    private readonly table: TableAccess,
    private readonly options: DependencyOrderOptions = {},
  ) {}

  /** A build became active: its waits are indexed. */
  tracked(build: TrackedBuild): void {
    this.waits.add(build);
  }

  /** A build is no longer active. */
  untracked(build: TrackedBuild): void {
    this.waits.remove(build);
  }

  isUnpublished(buildId: string): boolean {
    return this.unpublished.has(buildId);
  }

  /** The builds waiting for `buildId`, or for a build of `buildKey` not known yet. */
  waitersOf(buildId: string): string[] {
    return this.waits.waitingFor(buildId);
  }

  waitersOfKey(buildKey: string): string[] {
    return this.waits.waitingForKey(buildKey);
  }

  /**
   * After a restart: a blocked build's waits are checked against what its dependencies became
   * (`ended`: the outcome of every done build the state still holds).
   */
  restoreWaits(ended: ReadonlyMap<string, BuildOutcome | undefined>): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    for (const build of [...this.table.builds()]) {
      if (build.phase !== 'blocked' || this.table.get(build.buildId) === undefined) continue;
      for (const wait of [...(build.waitFor ?? [])]) {
        if (wait.buildId === undefined) {
          const current = this.table.current(wait.buildKey);
          if (current) this.bind(build, wait, current);
          continue;
        }
        if (this.table.get(wait.buildId) !== undefined || this.unpublished.has(wait.buildId)) continue;
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

  /** The collector's word on a build that succeeded: published, or failed (an artifact missing). */
  onCollectorEvent(event: BuildEvent): SchedulerEffect[] | undefined {
    const succeeded = this.unpublished.get(event.buildId);
    if (!succeeded) return undefined;
    if (event.state === 'published') return this.published(succeeded);
    if (!isEndState(event.state)) return [];
    succeeded.outcome = 'failed';
    this.forgetUnpublished(succeeded);
    const why = `failed to publish: [${event.error?.code ?? event.state}] ${event.error?.message ?? ''}`;
    return [{ type: 'persist-build', build: succeeded }, ...this.dependencyEnded(succeeded, why)];
  }

  /**
   * The waits of a new build: each dependency with a build not published yet (queued, running,
   * or succeeded and not in its repository yet), or of the same batch and not submitted yet.
   * Other dependencies are built against what is published.
   */
  waitsOf(planned: PlannedTarget, submit: BuildSubmit, commit: string): NewBuildWaits {
    const waits: DependencyWait[] = [];
    const batch = new Set(submit.batch ?? []);
    for (const dependency of planned.dependencies ?? []) {
      const current = this.table.current(dependency.buildKey) ?? this.unpublishedByKey.get(dependency.buildKey);
      const wait = { project: dependency.project, buildKey: dependency.buildKey, packages: dependency.packages };
      if (current) {
        waits.push({ ...wait, buildId: current.buildId });
        continue;
      }
      if (!batch.has(dependency.project)) continue;
      // Its submission of this batch may have come first and its build ended already.
      const last = this.lastEnded.get(dependency.buildKey);
      if (last?.commit !== commit) waits.push(wait);
      else if (last.outcome === 'failed') {
        return { waits, failed: { wait: { ...wait, buildId: last.buildId }, why: last.why ?? 'failed' } };
      }
    }
    return { waits };
  }

  /** A done build from the state topic: how its key last ended. */
  restoreEnded(build: TrackedBuild): void {
    if (build.outcome !== 'published' && build.outcome !== 'failed') return;
    this.noteEnded(build, build.outcome);
  }

  private noteEnded(build: TrackedBuild, outcome: 'published' | 'failed', why?: string): void {
    const createdAt = build.createdAt ?? 0;
    const known = this.lastEnded.get(build.buildKey);
    if (known && known.createdAt > createdAt) return;
    this.lastEnded.set(build.buildKey, {
      buildId: build.buildId,
      commit: build.commit,
      rebuild: build.rebuild !== undefined,
      outcome,
      createdAt,
      ...(why === undefined ? {} : { why }),
    });
  }

  /**
   * The build a `published` is for, when it is one a cascade may start from (issue 12): a succeeded
   * build waiting for it, or (after a restart, when the event comes again) the key's last published build.
   */
  publishedBuild(
    buildId: string,
    buildKey: string,
  ): { commit: string; rebuild: boolean; createdAt: number } | undefined {
    const succeeded = this.unpublished.get(buildId);
    if (succeeded) {
      return {
        commit: succeeded.commit,
        rebuild: succeeded.rebuild !== undefined,
        createdAt: succeeded.createdAt ?? 0,
      };
    }
    const last = this.lastEnded.get(buildKey);
    if (last?.buildId === buildId && last.outcome === 'published') {
      return { commit: last.commit, rebuild: last.rebuild, createdAt: last.createdAt };
    }
    return undefined;
  }

  /** The commit and creation time of the key's last build that ended (or succeeded and waits for its publish). */
  lastBuild(buildKey: string): { commit: string; createdAt: number } | undefined {
    const unpublished = this.unpublishedByKey.get(buildKey);
    const ended = this.lastEnded.get(buildKey);
    const candidates = [
      ...(unpublished ? [{ commit: unpublished.commit, createdAt: unpublished.createdAt ?? 0 }] : []),
      ...(ended ? [{ commit: ended.commit, createdAt: ended.createdAt }] : []),
    ];
    return candidates.sort((a, b) => b.createdAt - a.createdAt)[0];
  }

  /** Whether the key has had a build that ended (published, failed, or succeeded and not published yet). */
  builtBefore(buildKey: string): boolean {
    return this.lastEnded.has(buildKey) || this.unpublishedByKey.has(buildKey);
  }

  /**
   * A build not dispatched yet must also wait for these (a cascade's new builds of its
   * dependencies): a wait for the same key is bound to the new build. True when its waits changed.
   */
  waitAlso(build: TrackedBuild, waits: readonly DependencyWait[]): boolean {
    const own = build.waitFor ?? [];
    const fresh = waits.filter((w) => !own.some((o) => o.buildKey === w.buildKey && o.buildId === w.buildId));
    if (fresh.length === 0) return false;
    this.waits.remove(build);
    build.waitFor = [...own.filter((o) => !fresh.some((w) => w.buildKey === o.buildKey)), ...fresh];
    build.phase = 'blocked';
    this.waits.add(build);
    return true;
  }

  /** A wait for a key gets its build (a new submission, or the build that superseded the awaited one). */
  bind(waiter: TrackedBuild, wait: DependencyWait, dependency: TrackedBuild): void {
    this.waits.remove(waiter);
    wait.buildId = dependency.buildId;
    this.waits.add(waiter);
  }

  waitingEvent(build: TrackedBuild): SchedulerEffect {
    const waits = build.waitFor ?? [];
    return { type: 'event', build, state: 'waiting', reason: waitReason(waits), waitingFor: waitedBuildIds(build) };
  }

  /** Builds (among `touched`) whose waits go round in a circle fail with the cycle: nothing could start. */
  failCycles(touched: readonly TrackedBuild[]): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    for (const build of touched) {
      if (build.phase !== 'blocked') continue;
      const cycle = cycleThrough(build, (id) => this.table.get(id));
      if (!cycle) continue;
      const text = cycleText(cycle);
      const message =
        `dependency cycle: ${text}; build one of them with \`buildfleet build --ignore-deps\` ` +
        'against what is published, then the others';
      // Every member reports the cycle itself; only builds outside it fail as dependants.
      const members = cycle.filter((member) => member.phase !== 'done');
      for (const member of members) {
        this.table.finish(member, 'failed');
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
  release(waiter: TrackedBuild, dependencyId: string, how: string): SchedulerEffect[] {
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
  failBlocked(waiter: TrackedBuild, wait: DependencyWait, why: string): SchedulerEffect[] {
    const message = `dependency ${wait.project} (build ${wait.buildId ?? 'not submitted'}) ${why}`;
    return this.end(waiter, { code: 'dependency-failed', message });
  }

  /** Ends a build that no runner holds with `failed`, and every build that waits for it. */
  private end(build: TrackedBuild, error: { code: string; message: string }): SchedulerEffect[] {
    this.table.finish(build, 'failed');
    return [
      { type: 'persist-build', build },
      { type: 'event', build, state: 'failed', error },
      ...this.dependencyEnded(build, `failed: [${error.code}] ${error.message}`),
    ];
  }

  /** The builds waiting for `dependency` fail: it will never be published. */
  dependencyEnded(dependency: TrackedBuild, why: string): SchedulerEffect[] {
    this.noteEnded(dependency, 'failed', shorten(why));
    const effects: SchedulerEffect[] = [];
    for (const waiterId of this.waits.waitingFor(dependency.buildId)) {
      const waiter = this.table.get(waiterId);
      const wait = waiter?.waitFor?.find((w) => w.buildId === dependency.buildId);
      if (!waiter || !wait || waiter.phase !== 'blocked') continue;
      effects.push(...this.failBlocked(waiter, wait, shorten(why)));
    }
    return effects;
  }

  /** The build's packages are in their repository: its dependants go on. */
  published(build: TrackedBuild): SchedulerEffect[] {
    const effects: SchedulerEffect[] = [];
    if (build.phase !== 'done') this.table.finish(build, 'published');
    else build.outcome = 'published';
    this.forgetUnpublished(build);
    this.noteEnded(build, 'published');
    effects.push({ type: 'persist-build', build });
    for (const waiterId of this.waits.waitingFor(build.buildId)) {
      const waiter = this.table.get(waiterId);
      if (waiter && waiter.phase === 'blocked') effects.push(...this.release(waiter, build.buildId, 'published'));
    }
    return effects;
  }

  /**
   * Blocked builds that waited longer than dependencySubmitWaitMs for a dependency of their batch
   * that was never submitted stop waiting for it (and are built against what is published).
   */
  expire(now: number): SchedulerEffect[] {
    const limit = this.options.submitWaitMs ?? 600_000;
    const effects: SchedulerEffect[] = [];
    for (const build of [...this.table.builds()]) {
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
    for (const build of [...this.table.builds()]) {
      if (build.phase !== 'blocked') continue;
      const wait = build.waitFor?.find((w) => w.buildId === undefined && w.project === project);
      if (wait) effects.push(...this.failBlocked(build, wait, `could not be submitted: ${shorten(why)}`));
    }
    return effects;
  }

  rememberUnpublished(build: TrackedBuild): void {
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

  forgetUnpublished(build: TrackedBuild): void {
    this.unpublished.delete(build.buildId);
    if (this.unpublishedByKey.get(build.buildKey) === build) this.unpublishedByKey.delete(build.buildKey);
  }
}

/** Reasons quote the dependency's own error; a long chain of them is cut. */
function shorten(text: string): string {
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
