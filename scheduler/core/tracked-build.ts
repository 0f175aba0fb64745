/**
 * What the scheduler remembers of one build: enough to dispatch it again (lease expiry), to
 * tell a duplicate submission from a new one, and to supersede it. Plain data: it is also the
 * value written to the compacted state topic.
 */
import type { BuildKind, Target } from '../../shared/messages/index.ts';

/** Where a build is, as the scheduler sees it. */
export const SchedulerPhases = ['waiting', 'queued', 'running', 'done'] as const;
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
}

/** One target of a resolved submission. */
export interface PlannedTarget {
  target: Target;
  kind: BuildKind;
  runnerGroup: string;
}
