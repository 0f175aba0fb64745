/**
 * The build state machine (DESIGN.md §3, build.event), written once for every reader: the
 * states, the groups of them callers branch on, which moves are allowed, and what one event does
 * to the record of its build. The scheduler (leases, attempt ends), the info service (records),
 * the CLI (`build --wait`, `status`) and submission progress all decide with it, so they agree.
 *
 * The happy path is
 *   submitted -> waiting -> queued -> claimed -> preparing -> building -> uploading -> succeeded -> published
 * and a build may instead end in one of the EndStates. `heartbeat` is not a state change: it
 * renews the lease of a running build and leaves its state as it was. A `failed` whose error is
 * retriable is an open failure: the scheduler dispatches the build again (a later attempt) or
 * closes it with an end of the same attempt (docs/scheduler.md, "Retries").
 */
import { literalUnion } from './common.ts';

export const BuildStates = [
  'submitted',
  'waiting',
  'queued',
  'claimed',
  'preparing',
  'building',
  'uploading',
  'succeeded',
  'published',
  'failed',
  'cancelled',
  'superseded',
  'timed-out',
  'unresolvable',
  'heartbeat',
] as const;
export type BuildState = (typeof BuildStates)[number];

export const BuildStateSchema = literalUnion(BuildStates, { description: 'build state' });

/** The design's "ends": the build stopped without a result. Nothing follows them (but see isOpenFailure). */
export const EndStates = ['failed', 'cancelled', 'superseded', 'timed-out', 'unresolvable'] as const;
export type EndState = (typeof EndStates)[number];

/**
 * States after which no further event is expected for a buildId: `published` (the result is
 * in its repository) and the EndStates. `succeeded` is not terminal: the collector still has to
 * publish it.
 */
export const TerminalStates = ['published', ...EndStates] as const;
export type TerminalState = (typeof TerminalStates)[number];

/**
 * States that close an attempt for the runner and the lease tracker: the runner frees the
 * slot, the scheduler stops watching the lease. `succeeded` is final for the runner even
 * though the build goes on to `published`.
 */
export const AttemptFinalStates = ['succeeded', ...EndStates] as const;
export type AttemptFinalState = (typeof AttemptFinalStates)[number];

/** States in which a runner holds a lease on the build (renewed by `heartbeat`). */
export const LeasedStates = ['claimed', 'preparing', 'building', 'uploading', 'heartbeat'] as const;
export type LeasedState = (typeof LeasedStates)[number];

const terminal: ReadonlySet<string> = new Set(TerminalStates);
const ends: ReadonlySet<string> = new Set(EndStates);
const attemptFinal: ReadonlySet<string> = new Set(AttemptFinalStates);
const leased: ReadonlySet<string> = new Set(LeasedStates);

export function isTerminalState(state: BuildState): state is TerminalState {
  return terminal.has(state);
}

export function isEndState(state: BuildState): state is EndState {
  return ends.has(state);
}

export function isAttemptFinalState(state: BuildState): state is AttemptFinalState {
  return attemptFinal.has(state);
}

export function isLeasedState(state: BuildState): state is LeasedState {
  return leased.has(state);
}

/** A state with the error it came with (an event, or a record: the error of its latest failure). */
export interface StateWithError {
  state: BuildState;
  error?: { retriable?: boolean | undefined } | undefined;
}

/**
 * A `failed` whose error is retriable: the attempt ended, the build may not have. The scheduler
 * answers it with a later attempt (`queued`) or closes it with an end of the same attempt.
 */
export function isOpenFailure(build: StateWithError): boolean {
  return build.state === 'failed' && build.error?.retriable === true;
}

/** Whether a build is over: a terminal state that is not an open failure. */
export function hasEnded(build: StateWithError): boolean {
  return isTerminalState(build.state) && !isOpenFailure(build);
}

/** How far along the happy path a state is; the ends rank last. `heartbeat` never becomes a state. */
const RANKS: Readonly<Record<BuildState, number>> = {
  submitted: 0,
  waiting: 1,
  queued: 2,
  claimed: 3,
  preparing: 4,
  building: 5,
  uploading: 6,
  succeeded: 7,
  published: 8,
  failed: 9,
  cancelled: 9,
  superseded: 9,
  'timed-out': 9,
  unresolvable: 9,
  heartbeat: -1,
};

export function stateRank(state: BuildState): number {
  return RANKS[state];
}

/**
 * The moves within one attempt: a build goes only forward along the path (or to an end), never
 * back, never from a terminal state, never into `heartbeat`. A new attempt starts over from
 * `queued` or `waiting` (a re-dispatch); see effectOf for the moves between attempts.
 */
export function canMove(from: BuildState, to: BuildState): boolean {
  if (to === 'heartbeat' || from === 'heartbeat' || isTerminalState(from)) return false;
  if (from === 'succeeded') return to === 'published' || to === 'failed';
  return stateRank(to) > stateRank(from);
}

/** What one event does to the record of its build. */
export type EventEffect =
  /** The first event of an unknown build: the record is made from it. */
  | 'create'
  /** The build enters the event's state. */
  | 'apply'
  /** Kept in the history; the state stays as it is (late, repeated, or after the end). */
  | 'history'
  /** `submitted` again for a known build: only its submitId is added. */
  | 'resubmit'
  /** A heartbeat: only updatedAt (and the runner of the current attempt) change. */
  | 'heartbeat'
  /** Nothing to record (a heartbeat of a build never seen). */
  | 'ignore';

/** What the rules need to know about a known build. */
export interface CurrentBuild extends StateWithError {
  attempt: number;
  /** Whether the history already holds a `submitted` entry. */
  submitted: boolean;
}

/** What the rules read of an event. */
export interface RuleEvent extends StateWithError {
  attempt: number;
  source: { service: string };
}

/** The collector's verdict on a success (it could not be put into its repository). */
function isCollectorFailure(event: RuleEvent): boolean {
  return event.state === 'failed' && event.source.service === 'collector';
}

/**
 * Decides what `event` does to a build that is in `current` (undefined: unknown build). Events
 * of one build come from several producers (scheduler, runners, collector), so they may arrive
 * late or twice; these rules keep a record from moving backwards and let the first success count.
 *
 * - A heartbeat never changes the state; one for an unknown build is ignored.
 * - `submitted` for a known build adds its submitId (and a history entry if the first
 *   `submitted` had not been seen yet).
 * - A build that has ended (hasEnded) keeps its state.
 * - An open failure moves only to a later attempt, or to an end of its attempt that is not
 *   itself an open failure (the scheduler closing it).
 * - After `succeeded` only `published` or the collector's `failed` count: the first success
 *   is the one that is published.
 * - `succeeded`, `published` and the collector's `failed` count from any attempt.
 * - Otherwise a later attempt counts, an earlier one does not, and within one attempt only a
 *   move canMove allows counts.
 */
export function effectOf(current: CurrentBuild | undefined, event: RuleEvent): EventEffect {
  if (event.state === 'heartbeat') return current === undefined ? 'ignore' : 'heartbeat';
  if (current === undefined) return 'create';
  if (event.state === 'submitted') return current.submitted ? 'resubmit' : 'history';
  if (hasEnded(current)) return 'history';
  if (isOpenFailure(current)) {
    if (event.attempt !== current.attempt) return event.attempt > current.attempt ? 'apply' : 'history';
    return isEndState(event.state) && !isOpenFailure(event) ? 'apply' : 'history';
  }
  if (current.state === 'succeeded') {
    return event.state === 'published' || isCollectorFailure(event) ? 'apply' : 'history';
  }
  if (event.state === 'succeeded' || event.state === 'published' || isCollectorFailure(event)) return 'apply';
  if (event.attempt !== current.attempt) return event.attempt > current.attempt ? 'apply' : 'history';
  return canMove(current.state, event.state) ? 'apply' : 'history';
}
