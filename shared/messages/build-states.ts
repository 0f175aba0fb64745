/**
 * The states of a build (DESIGN.md §3, build.event) and the groups of them that callers
 * branch on. The happy path is
 *   submitted -> waiting -> queued -> claimed -> preparing -> building -> uploading -> succeeded -> published
 * and a build may instead end in one of the EndStates. `heartbeat` is not a state change: it
 * renews the lease of a running build and leaves its state as it was.
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

/** The design's "ends": the build stopped without a result. Nothing follows them. */
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

export function isTerminalState(state: BuildState): state is TerminalState {
  return terminal.has(state);
}

export function isEndState(state: BuildState): state is EndState {
  return ends.has(state);
}

export function isAttemptFinalState(state: BuildState): state is AttemptFinalState {
  return attemptFinal.has(state);
}
