import type { BuildState, ErrorInfo } from '../../shared/messages/index.ts';
import type { TrackedBuild } from './tracked-build.ts';

/**
 * What the scheduler's decisions ask the I/O shell to do, in order. The core never publishes
 * anything itself; scheduler/scheduler.ts carries the effects out.
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
      build: TrackedBuild;
      state: BuildState;
      submitId?: string;
      reason?: string;
      error?: ErrorInfo;
      /** `waiting` for dependencies: the builds that must be published first. */
      waitingFor?: string[];
    }
  /** Publish the request of the build's current attempt (and `queued` or `waiting`). */
  | { type: 'dispatch'; build: TrackedBuild; reason?: string }
  /** Ask the runners to abort the build (control.cancel). */
  | { type: 'cancel'; buildId: string; reason: string };
