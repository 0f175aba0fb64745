/**
 * What the scheduler remembers of one build: enough to dispatch it again (lease expiry), to
 * tell a duplicate submission from a new one, and to supersede it. Plain data: it is also the
 * value written to the compacted state topic.
 */
import type { BuildKind, Rebuild, Target } from '../../shared/messages/index.ts';

/**
 * Where a build is, as the scheduler sees it. `blocked`: not dispatched yet, because builds of
 * its dependencies must be published first; `waiting`: dispatched, but no runner serves its topic.
 */
export const SchedulerPhases = ['blocked', 'waiting', 'queued', 'running', 'done'] as const;
export type SchedulerPhase = (typeof SchedulerPhases)[number];

export interface TrackedBuild {
  buildId: string;
  buildKey: string;
  project: string;
  target: Target;
  repoKey: string;
  kind: BuildKind;
  runnerGroup: string;
  sourceUrl: string;
  commit: string;
  /** The submission that made it. */
  submitId: string;
  attempt: number;
  phase: SchedulerPhase;
  /** False until the request of the current attempt was published. */
  dispatched: boolean;
  leaseMs: number;
  /** Epoch ms when the lease of a running build runs out; only meaningful while running. */
  leaseUntil?: number;
  runnerId?: string;
  /** Epoch ms when the current attempt was dispatched. */
  dispatchedAt?: number;
  /** Set when a cancel arrived; the runner's `cancelled` ends the build. */
  cancelRequested?: boolean;
  /** Infrastructure failures (lease expiries) so far. */
  expiries: number;
  /** Dependencies (our own packages) to be published before this build is dispatched. */
  waitFor?: DependencyWait[];
  /**
   * How a done build ended, as far as dependants care: `succeeded` (its packages are not in
   * their repository yet), `published`, or `failed` (any other end). Kept so that a restart knows.
   */
  outcome?: BuildOutcome;
  /** Epoch ms when the build was made (for dependency waits on builds not submitted yet). */
  createdAt?: number;
  /** Set on a rebuild of a cascade (issue 12): its rebuild number and the new builds it is for. */
  rebuild?: Rebuild;
}

export const BuildOutcomes = ['succeeded', 'published', 'failed'] as const;
export type BuildOutcome = (typeof BuildOutcomes)[number];

/** One dependency a blocked build waits for: the build of `buildKey` (once known) must be published. */
export interface DependencyWait {
  project: string;
  buildKey: string;
  /** The dependency's build; undefined while its submission (of the same batch) has not arrived. */
  buildId?: string;
  /** The names of the dependency that make the edge (`libfoo-dev`). */
  packages: string[];
}

/** What a target needs of our own packages, from the graph at the build's commit. */
export interface PlannedDependency {
  project: string;
  buildKey: string;
  packages: string[];
}

/** One target of a resolved submission. */
export interface PlannedTarget {
  /** Its package, when the submission builds several (scope `dependants` or `all`); else the submission's. */
  project?: string;
  target: Target;
  kind: BuildKind;
  runnerGroup: string;
  /** Our own packages this target builds against (graph edges of its dist). @default [] */
  dependencies?: PlannedDependency[];
}

/** What resolving a submission's ref gave: the commit, where its sources are, and the targets to build. */
export interface ResolvedSubmit {
  commit: string;
  sourceUrl: string;
  targets: PlannedTarget[];
}
