/**
 * One serialized queue of inputs (docs/scheduler.md, "One input at a time"): the scheduler's
 * records from three subscriptions, its timer and the results of slow work done outside all
 * come in here and are processed one at a time, in the order they arrived. Nothing else runs
 * the core, so no decision ever sees a state half changed by another. The fail-over of the
 * control plane goes on top of this unit.
 */

export interface InputQueue<I, R> {
  /**
   * Adds an input; resolves with what processing it gave, or rejects with its failure. Either
   * way the queue goes on with the next input.
   */
  push(input: I): Promise<R>;
  /** Inputs pushed and not processed yet, the one in hand included. */
  readonly pending: number;
  /** Resolves once every input pushed so far has been processed. */
  idle(): Promise<void>;
}

export function createInputQueue<I, R>(process: (input: I) => Promise<R>): InputQueue<I, R> {
  /** Settles when the last input pushed has been processed (never rejects). */
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  return {
    push(input) {
      pending += 1;
      const result = tail.then(() => process(input));
      tail = result.then(
        () => {
          pending -= 1;
        },
        () => {
          pending -= 1;
        },
      );
      return result;
    },
    get pending() {
      return pending;
    },
    idle() {
      return tail;
    },
  };
}
