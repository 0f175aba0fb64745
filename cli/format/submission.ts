/**
 * Following one submission from its events (build --wait): which builds belong to it, which
 * state changes to print, and when it is over. Pure: the command feeds events in and prints.
 *
 * Builds are learned from events carrying the submission's submitId (the scheduler publishes
 * `submitted` for every build of a submission, also for an already running build it reuses);
 * later events of a learned build count whatever submitId they carry.
 */
import { hasEnded, type BuildEvent, type BuildRecord, type BuildState } from '../../shared/messages/index.ts';
import { foldEvent } from './record-fold.ts';

/** What "done" means: `published` (in its repository), or already `succeeded` (built and uploaded). */
export type WaitGoal = 'published' | 'succeeded';

export interface SubmissionWatch {
  readonly submitId: string;
  /** Build keys the submission must produce (from --target); empty when the package decides. */
  readonly expectedKeys: readonly string[];
  /** The builds of the submission by buildId, in the order they were learned, folded from their events. */
  readonly builds: Map<string, BuildRecord>;
}

export function newSubmissionWatch(submitId: string, expectedKeys: readonly string[] = []): SubmissionWatch {
  return { submitId, expectedKeys, builds: new Map() };
}

/**
 * Takes an event in, folded as the info service folds it (./record-fold.ts). Returns the build's
 * record when its state or attempt changed or it ended (a line to print), undefined when the event
 * is not of this submission, a heartbeat, late, repeated, or after the build's end.
 */
export function applyEvent(watch: SubmissionWatch, event: BuildEvent): BuildRecord | undefined {
  const known = watch.builds.get(event.buildId);
  if (known === undefined && event.submitId !== watch.submitId) return undefined;
  const record = foldEvent(known, event);
  if (record === undefined) return undefined;
  watch.builds.set(event.buildId, record);
  const changed =
    known === undefined ||
    known.state !== record.state ||
    known.attempt !== record.attempt ||
    hasEnded(known) !== hasEnded(record); // an open failure closed by the scheduler
  return changed ? record : undefined;
}

export function reachedGoal(state: BuildState, goal: WaitGoal): boolean {
  return state === 'published' || (goal === 'succeeded' && state === 'succeeded');
}

export type SubmissionVerdict =
  | { status: 'pending'; missingKeys: string[]; running: BuildRecord[] }
  | { status: 'ok'; builds: BuildRecord[] }
  | { status: 'failed'; builds: BuildRecord[]; failed: BuildRecord[] };

/**
 * Pending while a build is known to be missing (an expected key without a build, or no build at
 * all yet) or still running (an open failure still runs: it is dispatched again or closed); then ok when every build reached the goal, else failed.
 */
export function submissionVerdict(watch: SubmissionWatch, goal: WaitGoal): SubmissionVerdict {
  const builds = [...watch.builds.values()];
  const missingKeys = watch.expectedKeys.filter((key) => !builds.some((build) => build.buildKey === key));
  const running = builds.filter((build) => !hasEnded(build) && !reachedGoal(build.state, goal));
  if (builds.length === 0 || missingKeys.length > 0 || running.length > 0) {
    return { status: 'pending', missingKeys, running };
  }
  const failed = builds.filter((build) => !reachedGoal(build.state, goal));
  return failed.length > 0 ? { status: 'failed', builds, failed } : { status: 'ok', builds };
}
