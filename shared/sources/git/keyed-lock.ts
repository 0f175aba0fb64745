/**
 * One-at-a-time sections per key inside this process: fetches into one mirror must not run
 * side by side (git's own ref and shallow-file locks would make the second one fail), while
 * different mirrors proceed in parallel.
 */
import { throwIfAborted } from '../../errors/index.ts';

export class KeyedLock {
  /** The tail of the queue per key: resolves when the last holder queued so far is done. */
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `section` once every earlier section of the same key has ended. Aborting while
   * waiting rejects at once with BuildfleetError('aborted'); the section is then never run.
   */
  async run<T>(key: string, section: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal);
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    // Queue behind the previous holder whatever happens to us, so the chain never breaks.
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    try {
      await waitOrAbort(previous, signal);
      return await section();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function abortError(signal: AbortSignal): Error {
  try {
    throwIfAborted(signal);
  } catch (error) {
    if (error instanceof Error) return error;
  }
  return new Error('aborted');
}

function waitOrAbort(turn: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return turn;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void turn.then(() => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) onAbort();
      else resolve();
    });
  });
}
