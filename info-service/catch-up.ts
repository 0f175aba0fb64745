/**
 * When has a view that reads a topic from its beginning caught up? When it has seen, in every
 * partition, the record just before the end offset the topic had when reading began. Records
 * that never reach the handler (not JSON at all, or deleted by retention) would keep it waiting,
 * so the service also counts it caught up after a quiet spell (docs/info-service.md).
 */
export class CatchUpTracker {
  /** Partition -> offset of the last record still to be seen. */
  private readonly waiting = new Map<number, bigint>();

  /** `ends`: the end offset (next offset to be written) of each partition when reading began. */
  constructor(ends: ReadonlyMap<number, string>) {
    for (const [partition, end] of ends) {
      const last = BigInt(end) - 1n;
      if (last >= 0n) this.waiting.set(partition, last);
    }
  }

  get caughtUp(): boolean {
    return this.waiting.size === 0;
  }

  /** Partitions not yet read up to their end, for logs. */
  get behind(): number[] {
    return [...this.waiting.keys()];
  }

  /** Notes a record as seen; returns true when this made the reader caught up. */
  seen(partition: number, offset: string): boolean {
    const last = this.waiting.get(partition);
    if (last === undefined || BigInt(offset) < last) return false;
    this.waiting.delete(partition);
    return this.waiting.size === 0;
  }
}
