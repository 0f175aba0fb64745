/**
 * Build slots of one runner. Pure bookkeeping: `take` and `free` say whether intake must
 * pause or may resume, so the runner never runs more than `size` builds and never leaves its
 * group for back-pressure.
 */
export class Slots {
  private readonly busy = new Set<string>();
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.busy.size;
  }

  get full(): boolean {
    return this.busy.size >= this.size;
  }

  has(buildId: string): boolean {
    return this.busy.has(buildId);
  }

  ids(): string[] {
    return [...this.busy];
  }

  /** Waits for a free slot and takes it for `buildId`. Returns true when the runner is now full. */
  async take(buildId: string, signal: AbortSignal): Promise<boolean> {
    while (this.full) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    signal.throwIfAborted();
    this.busy.add(buildId);
    return this.full;
  }

  /** Frees the slot of `buildId`. Returns true when intake may resume. */
  free(buildId: string): boolean {
    const wasFull = this.full;
    this.busy.delete(buildId);
    this.waiters.shift()?.();
    return wasFull && !this.full;
  }
}
