/**
 * What goes into the scheduler core (./scheduler-core.ts), one at a time through the shell's
 * input queue (scheduler/input-queue.ts), and the slow work it asks for outside that queue.
 */
import type { BuildfleetError } from '../../shared/errors/index.ts';
import type { BuildEvent, BuildSubmit, ControlCancel } from '../../shared/messages/index.ts';
import type { ResolvedSubmit } from './build-table.ts';
import type { CascadePlan, CascadeTrigger } from './cascade.ts';
import type { IoEffect, RunnerCountPurpose, RunnerPool, SchedulerEffect } from './effects.ts';
import type { TrackedBuild } from './tracked-build.ts';

/** Inputs the queue carries: records, timer ticks, and the results of slow work. */
export type QueuedInput =
  /** The durable state read back at start. */
  | {
      type: 'restore';
      builds: TrackedBuild[];
      submits: Array<[string, string[]]>;
      rebuilds: Iterable<[string, number]>;
    }
  /** A build.submit record. */
  | { type: 'submit'; submit: BuildSubmit }
  /** A submission's sources, resolved outside the queue (effect `resolve-submit`). */
  | { type: 'submit-resolved'; submit: BuildSubmit; resolved: ResolvedSubmit; receivedAt: number }
  /** A submission whose sources cannot be resolved: its builds end `failed`. */
  | { type: 'submit-unresolvable'; submit: BuildSubmit; failure: BuildfleetError; receivedAt: number }
  /** A build.event record. */
  | { type: 'event'; event: BuildEvent }
  /** The plan of the cascade the event starts, made outside the queue (effect `plan-cascade`). */
  | { type: 'cascade-planned'; event: BuildEvent; trigger: CascadeTrigger; plan: CascadePlan }
  /** The plan could not be made: the event is taken without a cascade. */
  | { type: 'cascade-unplannable'; event: BuildEvent; trigger: CascadeTrigger; failure: BuildfleetError }
  /** A control.cancel record. */
  | { type: 'cancel'; cancel: ControlCancel }
  /** The timer: leases, dependency waits, undispatched and waiting builds. */
  | { type: 'tick' };

/**
 * Answers the shell gives within the input in hand, at the point of the effect that asked, so
 * that they act on the state of that moment.
 */
export type Answer =
  /** The shell reached a `dispatch` effect. */
  | { type: 'dispatch-due'; build: TrackedBuild; reason?: string }
  /** The members of each pool's consumer group, in the order of the `count-runners` effect. */
  | { type: 'runners-counted'; pools: RunnerPool[]; counts: number[]; purpose: RunnerCountPurpose }
  | { type: 'request-sent'; build: TrackedBuild; attempt: number; waiting: boolean }
  | { type: 'request-topic-missing'; build: TrackedBuild; topic: string }
  /** The shell reached a `check-waiting` effect. */
  | { type: 'waiting-due' };

export type SchedulerInput = QueuedInput | Answer;

/**
 * Slow I/O (git, retried for minutes while the sources cannot be reached) done outside the
 * queue; its result comes back as a queued input, and the record that asked is handled then.
 */
export type SlowWork =
  | { type: 'resolve-submit'; submit: BuildSubmit; receivedAt: number }
  | { type: 'plan-cascade'; event: BuildEvent; trigger: CascadeTrigger };

/** Everything the core asks the shell to do, in order. */
export type CoreEffect = SchedulerEffect | IoEffect | SlowWork;
