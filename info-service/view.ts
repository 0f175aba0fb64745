/**
 * The info service's view: build.event messages folded into build records, with the indexes
 * its questions need (by build id, latest per project and target, by submission, most
 * recently updated first). Plain code without I/O: the service feeds it events and reads it.
 */
import { BuildfleetError } from '../shared/errors/index.ts';
import {
  effectOf,
  InfoQueryListLimit,
  type BuildEvent,
  type BuildRecord,
  type BuildState,
  type EventEffect,
  type InfoQueryListFilter,
  type Target,
} from '../shared/messages/index.ts';
import { BuildEntry, StringTable, toRecord } from './build-entry.ts';

export interface BuildViewOptions {
  /**
   * Builds kept at most; beyond it the least recently updated build is forgotten.
   * @default 200000
   */
  maxBuilds?: number;
  /**
   * History entries kept per build; beyond it the oldest but the first are dropped.
   * @default 100
   */
  maxHistory?: number;
}

/** What applying one event did. */
export interface ApplyOutcome {
  effect: EventEffect;
  /** The build's state after the event (undefined when the event was ignored). */
  state: BuildState | undefined;
  /** True when the record changed in a way a reader would see (not a repeated event). */
  changed: boolean;
}

/** A list answer: the builds and whether more matched than were returned. */
export interface ListResult {
  builds: BuildRecord[];
  truncated: boolean;
}

const DEFAULT_MAX_BUILDS = 200_000;
const DEFAULT_MAX_HISTORY = 100;

/** Epoch ms of an ISO time; a time that names no real instant is an invalid message. */
export function timeOf(at: string, field = 'at'): number {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) {
    throw new BuildfleetError('message-invalid', `build.event: field "${field}" is not a real time: ${at}`, {
      context: { field, value: at },
    });
  }
  return ms;
}

export function targetName(target: Target): string {
  return `${target.dist}.${target.arch}`;
}

export class BuildView {
  private readonly builds = new Map<string, BuildEntry>();
  /** project -> `<dist>.<arch>` -> the build of that target created last. */
  private readonly latestByProject = new Map<string, Map<string, BuildEntry>>();
  private readonly bySubmit = new Map<string, BuildEntry[]>();
  private readonly strings = new StringTable();
  private newest: BuildEntry | undefined;
  private oldest: BuildEntry | undefined;
  private readonly maxBuilds: number;
  private readonly maxHistory: number;

  constructor(options: BuildViewOptions = {}) {
    this.maxBuilds = Math.max(1, options.maxBuilds ?? DEFAULT_MAX_BUILDS);
    this.maxHistory = Math.max(2, options.maxHistory ?? DEFAULT_MAX_HISTORY);
  }

  get size(): number {
    return this.builds.size;
  }

  /** Folds one event into the view. @throws BuildfleetError('message-invalid') for a time that is not real */
  apply(event: BuildEvent): ApplyOutcome {
    const atMs = timeOf(event.at);
    const entry = this.builds.get(event.buildId);
    const effect = effectOf(
      entry && {
        state: entry.state,
        attempt: entry.attempt,
        error: entry.error,
        submitted: entry.hasHistoryState('submitted'),
      },
      event,
    );
    if (effect === 'ignore') return { effect, state: undefined, changed: false };
    if (effect === 'create' || entry === undefined) {
      const created = this.create(event, atMs);
      return { effect: 'create', state: created.state, changed: true };
    }
    let changed = entry.addSubmitId(event.submitId);
    if (event.submitId !== undefined && changed) this.indexSubmit(event.submitId, entry);
    if (entry.commit === undefined && event.commit !== undefined) {
      entry.commit = event.commit;
      changed = true;
    }
    if (atMs < entry.createdMs) entry.createdMs = atMs;
    if (atMs > entry.updatedMs) {
      entry.updatedMs = atMs;
      this.touch(entry);
      changed = true;
    }
    const runner = this.strings.runner(event.runnerId);
    switch (effect) {
      case 'heartbeat':
        if (event.attempt === entry.attempt && event.runnerId !== undefined && entry.runnerId !== event.runnerId) {
          entry.runnerId = this.strings.intern(event.runnerId);
          changed = true;
        }
        break;
      case 'resubmit':
        break;
      case 'history':
        changed = entry.addHistory(event.state, atMs, event.attempt, runner, this.maxHistory) || changed;
        if (event.state === 'succeeded' && entry.succeededAttempt === 0) {
          // A late first success (e.g. after `published`): its artifacts and log still belong here.
          this.takeSuccess(entry, event);
          changed = true;
        }
        break;
      case 'apply': {
        const added = entry.addHistory(event.state, atMs, event.attempt, runner, this.maxHistory);
        if (!added) break; // the same event a second time
        this.enter(entry, event);
        changed = true;
        break;
      }
      default: {
        const never: never = effect;
        throw new BuildfleetError('internal', `unknown event effect ${String(never)}`);
      }
    }
    return { effect, state: entry.state, changed };
  }

  get(buildId: string): BuildRecord | undefined {
    const entry = this.builds.get(buildId);
    return entry && toRecord(entry, this.strings);
  }

  /** The state of a build without making its record (cheap). */
  stateOf(buildId: string): BuildState | undefined {
    return this.builds.get(buildId)?.state;
  }

  /** The latest build of each target of `project` (or of `target` only), sorted by target. */
  latest(project: string, target?: Target): BuildRecord[] {
    const targets = this.latestByProject.get(project);
    if (!targets) return [];
    if (target !== undefined) {
      const entry = targets.get(targetName(target));
      return entry ? [toRecord(entry, this.strings)] : [];
    }
    return [...targets.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => toRecord(entry, this.strings));
  }

  /** Builds matching `filter`, most recently updated first, at most `limit` (default 100, at most 1000). */
  list(filter: InfoQueryListFilter = {}): ListResult {
    const limit = Math.min(Math.max(1, filter.limit ?? InfoQueryListLimit.default), InfoQueryListLimit.max);
    const sinceMs = filter.since === undefined ? undefined : timeOf(filter.since, 'since');
    const states = filter.states && filter.states.length > 0 ? new Set<string>(filter.states) : undefined;
    const matches = (e: BuildEntry): boolean =>
      (filter.project === undefined || e.project === filter.project) &&
      (filter.projectPrefix === undefined || e.project.startsWith(filter.projectPrefix)) &&
      (states === undefined || states.has(e.state)) &&
      (filter.dist === undefined || e.target.dist === filter.dist) &&
      (filter.arch === undefined || e.target.arch === filter.arch) &&
      (filter.submitId === undefined || e.hasSubmitId(filter.submitId));
    const found: BuildEntry[] = [];
    let truncated = false;
    const candidates = filter.submitId === undefined ? this.newestFirst() : this.submitted(filter.submitId).values();
    for (const entry of candidates) {
      if (sinceMs !== undefined && entry.updatedMs < sinceMs) break;
      if (!matches(entry)) continue;
      if (found.length === limit) {
        truncated = true;
        break;
      }
      found.push(entry);
    }
    return { builds: found.map((e) => toRecord(e, this.strings)), truncated };
  }

  /** Every build of one submission, most recently updated first. */
  bySubmitId(submitId: string): BuildRecord[] {
    return this.submitted(submitId).map((e) => toRecord(e, this.strings));
  }

  private submitted(submitId: string): BuildEntry[] {
    return [...(this.bySubmit.get(submitId) ?? [])].sort((a, b) => b.updatedMs - a.updatedMs);
  }

  private *newestFirst(): Generator<BuildEntry> {
    for (let entry = this.newest; entry !== undefined; entry = entry.older) yield entry;
  }

  private create(event: BuildEvent, atMs: number): BuildEntry {
    const s = this.strings;
    const entry = new BuildEntry(
      event.buildId,
      s.intern(event.buildKey),
      s.intern(event.project),
      s.target(event.target),
      s.intern(event.repoKey),
      event.state,
      event.attempt,
      atMs,
    );
    entry.addHistory(event.state, atMs, event.attempt, s.runner(event.runnerId), this.maxHistory);
    this.enter(entry, event);
    entry.commit = event.commit;
    this.builds.set(entry.buildId, entry);
    if (entry.addSubmitId(event.submitId) && event.submitId !== undefined) this.indexSubmit(event.submitId, entry);
    this.touch(entry);
    let targets = this.latestByProject.get(entry.project);
    if (!targets) {
      targets = new Map();
      this.latestByProject.set(entry.project, targets);
    }
    const name = targetName(entry.target);
    const current = targets.get(name);
    if (current === undefined || current.createdMs <= entry.createdMs) targets.set(name, entry);
    while (this.builds.size > this.maxBuilds && this.oldest !== undefined && this.oldest !== entry) {
      this.evict(this.oldest);
    }
    return entry;
  }

  /** The build enters the event's state: the state's own fields come with it. */
  private enter(entry: BuildEntry, event: BuildEvent): void {
    const newAttempt = event.attempt !== entry.attempt;
    entry.state = event.state;
    entry.attempt = event.attempt;
    if (event.runnerId !== undefined) entry.runnerId = this.strings.intern(event.runnerId);
    else if (newAttempt) entry.runnerId = undefined;
    entry.reason = event.reason;
    entry.waitingFor = event.state === 'waiting' ? event.waitingFor : undefined;
    if (event.error !== undefined) entry.error = event.error;
    if (event.logKey !== undefined) entry.logKey = event.logKey;
    if (event.durations !== undefined) entry.durations = event.durations;
    if (event.repo !== undefined) entry.repo = event.repo;
    if (event.rebuild !== undefined) entry.rebuild = event.rebuild;
    if (event.state === 'succeeded' && entry.succeededAttempt === 0) this.takeSuccess(entry, event);
  }

  private takeSuccess(entry: BuildEntry, event: BuildEvent): void {
    entry.succeededAttempt = event.attempt;
    entry.artifacts = event.artifacts ?? [];
    entry.logKey ??= event.logKey;
    entry.durations ??= event.durations;
    if (event.builtAgainst !== undefined) entry.builtAgainst = event.builtAgainst;
  }

  private indexSubmit(submitId: string, entry: BuildEntry): void {
    const list = this.bySubmit.get(submitId);
    if (list) list.push(entry);
    else this.bySubmit.set(submitId, [entry]);
  }

  /** Moves an entry to its place in the most-recently-updated list (normally the front). */
  private touch(entry: BuildEntry): void {
    this.unlink(entry);
    let after: BuildEntry | undefined; // the entry that will be just newer than this one
    let before = this.newest;
    while (before !== undefined && before.updatedMs > entry.updatedMs) {
      after = before;
      before = before.older;
    }
    entry.newer = after;
    entry.older = before;
    if (after) after.older = entry;
    else this.newest = entry;
    if (before) before.newer = entry;
    else this.oldest = entry;
  }

  private unlink(entry: BuildEntry): void {
    if (entry.newer) entry.newer.older = entry.older;
    else if (this.newest === entry) this.newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else if (this.oldest === entry) this.oldest = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
  }

  private evict(entry: BuildEntry): void {
    this.unlink(entry);
    this.builds.delete(entry.buildId);
    const targets = this.latestByProject.get(entry.project);
    const name = targetName(entry.target);
    if (targets?.get(name) === entry) {
      targets.delete(name);
      if (targets.size === 0) this.latestByProject.delete(entry.project);
    }
    for (const submitId of entry.submitIds ?? []) {
      const rest = (this.bySubmit.get(submitId) ?? []).filter((e) => e !== entry);
      if (rest.length > 0) this.bySubmit.set(submitId, rest);
      else this.bySubmit.delete(submitId);
    }
  }
}
