/**
 * The view's in-memory form of one build, kept small because the view holds 100,000 of them:
 * strings shared between builds (project, keys, target, runner ids) are interned, times are
 * epoch milliseconds, and the history is one flat array of numbers. toRecord() turns an entry
 * into the BuildRecord of the messages (docs/schemas/info.answer.json).
 */
import {
  BuildStates,
  type Artifact,
  type BuildHistoryEntry,
  type BuildRecord,
  type BuildState,
  type BuiltAgainst,
  type Rebuild,
  type Durations,
  type ErrorInfo,
  type PublishedRepo,
  type Target,
} from '../shared/messages/index.ts';

/**
 * A history entry is two numbers: what happened (state, attempt and runner packed into one
 * integer below 2^46) and when (epoch ms).
 */
const STRIDE = 2;
const STATE_SPAN = 16;
const ATTEMPT_SPAN = 4096;

function packEntry(state: number, attempt: number, runner: number): number {
  return state + STATE_SPAN * Math.min(attempt, ATTEMPT_SPAN - 1) + STATE_SPAN * ATTEMPT_SPAN * (runner + 1);
}

function unpackEntry(code: number): { state: number; attempt: number; runner: number } {
  return {
    state: code % STATE_SPAN,
    attempt: Math.floor(code / STATE_SPAN) % ATTEMPT_SPAN,
    runner: Math.floor(code / (STATE_SPAN * ATTEMPT_SPAN)) - 1,
  };
}

const stateIndex: ReadonlyMap<BuildState, number> = new Map(BuildStates.map((state, index) => [state, index]));

/** Shares equal strings and targets between entries, and numbers runner ids for the packed history. */
export class StringTable {
  private readonly strings = new Map<string, string>();
  private readonly targets = new Map<string, Readonly<Target>>();
  private readonly runnerIndex = new Map<string, number>();
  private readonly runnerIds: string[] = [];

  intern(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    this.strings.set(value, value);
    return value;
  }

  target(target: Target): Readonly<Target> {
    const id = `${target.dist}\0${target.arch}`;
    let known = this.targets.get(id);
    if (known === undefined) {
      known = Object.freeze({ dist: this.intern(target.dist), arch: this.intern(target.arch) });
      this.targets.set(id, known);
    }
    return known;
  }

  runner(runnerId: string | undefined): number {
    if (runnerId === undefined) return -1;
    let index = this.runnerIndex.get(runnerId);
    if (index === undefined) {
      index = this.runnerIds.length;
      this.runnerIds.push(runnerId);
      this.runnerIndex.set(runnerId, index);
    }
    return index;
  }

  runnerAt(index: number): string | undefined {
    return index < 0 ? undefined : this.runnerIds[index];
  }
}

/**
 * One build. Every field is set in the constructor so all entries share one hidden class; the
 * `newer`/`older` links place the entry in the view's most-recently-updated list.
 */
export class BuildEntry {
  state: BuildState;
  attempt: number;
  runnerId: string | undefined = undefined;
  /** The first submission, then every other one that gave back this build. */
  submitIds: string[] | undefined = undefined;
  commit: string | undefined = undefined;
  /** Packed entries of STRIDE numbers each, oldest first. */
  history: number[] = [];
  artifacts: Artifact[] | undefined = undefined;
  /** Attempt whose `succeeded` counts (the first one seen); 0 before any. */
  succeededAttempt = 0;
  logKey: string | undefined = undefined;
  durations: Durations | undefined = undefined;
  error: ErrorInfo | undefined = undefined;
  reason: string | undefined = undefined;
  repo: PublishedRepo | undefined = undefined;
  builtAgainst: BuiltAgainst[] | undefined = undefined;
  /** While the build waits for dependencies: their build ids. */
  waitingFor: string[] | undefined = undefined;
  /** A rebuild of a cascade: its number and the dependencies' new builds it is for. */
  rebuild: Rebuild | undefined = undefined;
  createdMs: number;
  updatedMs: number;
  newer: BuildEntry | undefined = undefined;
  older: BuildEntry | undefined = undefined;

  constructor(
    readonly buildId: string,
    readonly buildKey: string,
    readonly project: string,
    readonly target: Readonly<Target>,
    readonly repoKey: string,
    state: BuildState,
    attempt: number,
    atMs: number,
  ) {
    this.state = state;
    this.attempt = attempt;
    this.createdMs = atMs;
    this.updatedMs = atMs;
  }

  get historyLength(): number {
    return this.history.length / STRIDE;
  }

  hasHistoryState(state: BuildState): boolean {
    const wanted = stateIndex.get(state);
    for (let i = 0; i < this.history.length; i += STRIDE) {
      if ((this.history[i] ?? -1) % STATE_SPAN === wanted) return true;
    }
    return false;
  }

  /**
   * Inserts an entry in time order (after entries of the same time). An entry equal to one
   * already there (the same event delivered twice) is not added. Beyond `max` entries the
   * oldest but the first is dropped. Returns false when nothing was added.
   */
  addHistory(state: BuildState, atMs: number, attempt: number, runner: number, max: number): boolean {
    const code = packEntry(stateIndex.get(state) ?? 0, attempt, runner);
    const h = this.history;
    let at = h.length;
    while (at > 0 && (h[at - STRIDE + 1] ?? 0) > atMs) at -= STRIDE;
    for (let i = at - STRIDE; i >= 0 && h[i + 1] === atMs; i -= STRIDE) if (h[i] === code) return false;
    h.splice(at, 0, code, atMs);
    if (h.length > max * STRIDE) h.splice(STRIDE, STRIDE);
    return true;
  }

  addSubmitId(submitId: string | undefined): boolean {
    if (submitId === undefined) return false;
    if (this.submitIds === undefined) {
      this.submitIds = [submitId];
      return true;
    }
    if (this.submitIds.includes(submitId)) return false;
    this.submitIds.push(submitId);
    return true;
  }

  hasSubmitId(submitId: string): boolean {
    return this.submitIds?.includes(submitId) ?? false;
  }
}

/** The BuildRecord of the messages for an entry (a new object; the entry is not shared). */
export function toRecord(entry: BuildEntry, strings: StringTable): BuildRecord {
  const history: BuildHistoryEntry[] = [];
  const h = entry.history;
  for (let i = 0; i < h.length; i += STRIDE) {
    const packed = unpackEntry(h[i] ?? 0);
    const state = BuildStates[packed.state];
    if (state === undefined) continue;
    const runnerId = strings.runnerAt(packed.runner);
    history.push({
      state,
      at: new Date(h[i + 1] ?? 0).toISOString(),
      attempt: packed.attempt,
      ...(runnerId !== undefined ? { runnerId } : {}),
    });
  }
  const [submitId] = entry.submitIds ?? [];
  return {
    buildId: entry.buildId,
    buildKey: entry.buildKey,
    project: entry.project,
    target: { dist: entry.target.dist, arch: entry.target.arch },
    repoKey: entry.repoKey,
    state: entry.state,
    attempt: entry.attempt,
    ...(entry.runnerId !== undefined ? { runnerId: entry.runnerId } : {}),
    ...(submitId !== undefined ? { submitId, submitIds: [...(entry.submitIds ?? [])] } : {}),
    ...(entry.commit !== undefined ? { commit: entry.commit } : {}),
    history,
    artifacts: entry.artifacts ? entry.artifacts.map((a) => ({ ...a })) : [],
    ...(entry.logKey !== undefined ? { logKey: entry.logKey } : {}),
    ...(entry.durations !== undefined ? { durations: { ...entry.durations } } : {}),
    ...(entry.error !== undefined ? { error: { ...entry.error } } : {}),
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.repo !== undefined ? { repo: { ...entry.repo } } : {}),
    ...(entry.builtAgainst !== undefined ? { builtAgainst: entry.builtAgainst.map((b) => ({ ...b })) } : {}),
    ...(entry.waitingFor !== undefined ? { waitingFor: [...entry.waitingFor] } : {}),
    ...(entry.rebuild !== undefined
      ? { rebuild: { number: entry.rebuild.number, because: entry.rebuild.because.map((b) => ({ ...b })) } }
      : {}),
    createdAt: new Date(entry.createdMs).toISOString(),
    updatedAt: new Date(entry.updatedMs).toISOString(),
  };
}
