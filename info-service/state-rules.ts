/**
 * Which events move a build's state, as pure decisions over plain data (docs/info-service.md,
 * "How events become records"). Events of one build come from several producers (scheduler,
 * runners, collector), so they may arrive late or twice; these rules keep a record from moving
 * backwards and let the first success count.
 */
import { isTerminalState, type BuildEvent, type BuildState } from '../shared/messages/index.ts';

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
  /** Nothing to record (a heartbeat of a build the view has never seen). */
  | 'ignore';

/** What the rules need to know about a known build. */
export interface CurrentBuild {
  state: BuildState;
  attempt: number;
  /** Whether the history already holds a `submitted` entry. */
  submitted: boolean;
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

type RuleEvent = Pick<BuildEvent, 'state' | 'attempt'> & { source: Pick<BuildEvent['source'], 'service'> };

/** The collector's verdict on a success (it could not be put into its repository). */
function isCollectorFailure(event: RuleEvent): boolean {
  return event.state === 'failed' && event.source.service === 'collector';
}

/**
 * Decides what `event` does to a build that is in `current` (undefined: unknown build).
 *
 * - A heartbeat never changes the state; one for an unknown build is ignored.
 * - `submitted` for a known build adds its submitId (and a history entry if the first
 *   `submitted` had not been seen yet).
 * - A terminal build (published or an end) keeps its state.
 * - After `succeeded` only `published` or the collector's `failed` count: the first success
 *   is the one that is published.
 * - `succeeded`, `published` and the collector's `failed` count from any attempt.
 * - Otherwise a later attempt counts, an earlier one does not, and within one attempt only a
 *   state further along the path counts.
 */
export function effectOf(current: CurrentBuild | undefined, event: RuleEvent): EventEffect {
  if (event.state === 'heartbeat') return current === undefined ? 'ignore' : 'heartbeat';
  if (current === undefined) return 'create';
  if (event.state === 'submitted') return current.submitted ? 'resubmit' : 'history';
  if (isTerminalState(current.state)) return 'history';
  if (current.state === 'succeeded') {
    return event.state === 'published' || isCollectorFailure(event) ? 'apply' : 'history';
  }
  if (event.state === 'succeeded' || event.state === 'published' || isCollectorFailure(event)) return 'apply';
  if (event.attempt !== current.attempt) return event.attempt > current.attempt ? 'apply' : 'history';
  return stateRank(event.state) > stateRank(current.state) ? 'apply' : 'history';
}
