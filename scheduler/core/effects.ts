import type { BuildState, ErrorInfo } from '../../shared/messages/index.ts';
import type { TrackedBuild } from './tracked-build.ts';

/** What an event is about: a tracked build, or one a submission that could not be resolved names. */
export type EventSubject = Pick<
  TrackedBuild,
  'buildId' | 'attempt' | 'buildKey' | 'project' | 'target' | 'repoKey' | 'commit'
> &
  Partial<Pick<TrackedBuild, 'runnerId' | 'rebuild'>>;

/** A runner group and arch: the consumer group of one request topic. */
export interface RunnerPool {
  runnerGroup: string;
  arch: string;
}

/**
 * What the build table's decisions ask the I/O shell to do, in order. The core never publishes
 * anything itself; scheduler/scheduler.ts carries the effects out, the state writes of a run
 * batched and written before the next effect that is not one.
 */
export type SchedulerEffect =
  /** Write the build to the state topic (durable before anything depends on it). */
  | { type: 'persist-build'; build: TrackedBuild }
  /** Remember the last rebuild number given to a build key (monotonic, survives restarts). */
  | { type: 'persist-rebuild'; buildKey: string; number: number }
  /** Remember a submission and the builds it gave. */
  | { type: 'persist-submit'; submitId: string; buildIds: string[] }
  /** Publish a build.event for the build. */
  | {
      type: 'event';
      build: EventSubject;
      state: BuildState;
      submitId?: string;
      reason?: string;
      error?: ErrorInfo;
      /** `waiting` for dependencies: the builds that must be published first. */
      waitingFor?: string[];
    }
  /**
   * Dispatch the build's current attempt. The shell hands it back to the core (input
   * `dispatch-due`) when it gets there, so that what it does depends on the state then: a build
   * dispatched or made to wait by an earlier effect is not sent twice.
   */
  | { type: 'dispatch'; build: TrackedBuild; reason?: string }
  /** Ask the runners to abort the build (control.cancel). */
  | { type: 'cancel'; buildId: string; reason: string };

/** Why runners are counted: to dispatch one build, or to tell waiting builds that a runner came. */
export type RunnerCountPurpose = { dispatch: TrackedBuild; attempt: number; reason?: string } | 'waiting';

/**
 * What the scheduler core (./scheduler-core.ts) asks of the shell besides the table's effects:
 * the steps of the I/O conversations around a dispatch (counting runners, sending a request),
 * logs and metrics. The answers come back to the core at once, within the same input.
 */
export type IoEffect =
  /** Count the members of these pools' consumer groups; the counts come back as `runners-counted`. */
  | { type: 'count-runners'; pools: RunnerPool[]; purpose: RunnerCountPurpose }
  /**
   * Publish the request of the build's attempt; the shell answers `request-sent`, or
   * `request-topic-missing` when the topic does not exist.
   */
  | { type: 'request'; build: TrackedBuild; attempt: number; waiting: boolean }
  /** Check the waiting builds' runner groups now (the shell hands it back as `waiting-due`). */
  | { type: 'check-waiting' }
  /** A log line; with `since` (epoch ms) it says `ms`, the time from then until it is written. */
  | {
      type: 'log';
      level: 'info' | 'warn' | 'error';
      message: string;
      fields: Record<string, unknown>;
      since?: number;
    }
  | { type: 'metric'; metric: 'dispatch-latency'; runnerGroup: string; seconds: number }
  | { type: 'metric'; metric: 'lease-expiry'; runnerGroup: string }
  | { type: 'metric'; metric: 'queue-depth'; depth: number };

/** The effects that write a state record: the shell batches them, statesFirst moves them ahead. */
export function isPersist<E extends { type: string }>(effect: E): effect is Extract<E, { type: `persist-${string}` }> {
  return effect.type.startsWith('persist-');
}
