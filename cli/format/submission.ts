/**
 * Following one submission from its events (build --wait): which builds belong to it, which
 * state changes to print, and when it is over. Pure: the command feeds events in and prints.
 *
 * Builds are learned from events carrying the submission's submitId (the scheduler publishes
 * `submitted` for every build of a submission, also for an already running build it reuses);
 * later events of a learned build count whatever submitId they carry.
 */
import { isTerminalState, type BuildEvent, type BuildRecord, type BuildState } from '../../shared/messages/index.ts';

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
 * Takes an event in. Returns the build's record when its state or attempt changed (a line to
 * print), undefined when the event is not of this submission, a heartbeat, or after the build's end.
 */
export function applyEvent(watch: SubmissionWatch, event: BuildEvent): BuildRecord | undefined {
  const known = watch.builds.get(event.buildId);
  if (known === undefined && (event.submitId !== watch.submitId || event.state === 'heartbeat')) return undefined;
  if (known !== undefined && isTerminalState(known.state)) return undefined;
  const record = foldEvent(known, event);
  watch.builds.set(event.buildId, record);
  if (event.state === 'heartbeat') return undefined;
  return known === undefined || known.state !== record.state || known.attempt !== record.attempt ? record : undefined;
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
 * all yet) or still running; then ok when every build reached the goal, else failed.
 */
export function submissionVerdict(watch: SubmissionWatch, goal: WaitGoal): SubmissionVerdict {
  const builds = [...watch.builds.values()];
  const missingKeys = watch.expectedKeys.filter((key) => !builds.some((build) => build.buildKey === key));
  const running = builds.filter((build) => !isTerminalState(build.state) && !reachedGoal(build.state, goal));
  if (builds.length === 0 || missingKeys.length > 0 || running.length > 0) {
    return { status: 'pending', missingKeys, running };
  }
  const failed = builds.filter((build) => !reachedGoal(build.state, goal));
  return failed.length > 0 ? { status: 'failed', builds, failed } : { status: 'ok', builds };
}

/** A build record folded from its events: what the info service keeps, as far as this client saw. */
export function foldEvent(previous: BuildRecord | undefined, event: BuildEvent): BuildRecord {
  const base: BuildRecord = previous ?? {
    buildId: event.buildId,
    buildKey: event.buildKey,
    project: event.project,
    target: event.target,
    repoKey: event.repoKey,
    state: event.state,
    attempt: event.attempt,
    history: [],
    artifacts: [],
    createdAt: event.at,
    updatedAt: event.at,
  };
  if (event.state === 'heartbeat') return { ...base, updatedAt: event.at };
  const runnerId = event.runnerId ?? (event.attempt === base.attempt ? base.runnerId : undefined);
  // A reason belongs to the state it came with.
  const { reason: _previousReason, waitingFor: _previousWaits, ...kept } = base;
  return {
    ...kept,
    state: event.state,
    attempt: event.attempt,
    ...(runnerId ? { runnerId } : {}),
    ...((base.submitId ?? event.submitId) ? { submitId: base.submitId ?? event.submitId } : {}),
    ...((event.commit ?? base.commit) ? { commit: event.commit ?? base.commit } : {}),
    history: [
      ...base.history,
      {
        state: event.state,
        at: event.at,
        attempt: event.attempt,
        ...(event.runnerId ? { runnerId: event.runnerId } : {}),
      },
    ],
    artifacts: event.artifacts ?? base.artifacts,
    ...((event.logKey ?? base.logKey) ? { logKey: event.logKey ?? base.logKey } : {}),
    ...((event.durations ?? base.durations) ? { durations: event.durations ?? base.durations } : {}),
    ...((event.error ?? base.error) ? { error: event.error ?? base.error } : {}),
    ...((event.repo ?? base.repo) ? { repo: event.repo ?? base.repo } : {}),
    ...(event.reason ? { reason: event.reason } : {}),
    ...(event.state === 'waiting' && event.waitingFor ? { waitingFor: event.waitingFor } : {}),
    ...((event.rebuild ?? base.rebuild) ? { rebuild: event.rebuild ?? base.rebuild } : {}),
    updatedAt: event.at,
  };
}
