/**
 * Cancel commands for builds this runner does not hold (yet): a request that arrives after
 * its cancel is answered `cancelled` instead of being built. Bounded, oldest forgotten first.
 */
export class RecentCancels {
  private readonly reasons = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  remember(buildId: string, reason: string): void {
    this.reasons.delete(buildId);
    this.reasons.set(buildId, reason);
    if (this.reasons.size > this.capacity) {
      const oldest = this.reasons.keys().next().value;
      if (oldest !== undefined) this.reasons.delete(oldest);
    }
  }

  take(buildId: string): string | undefined {
    const reason = this.reasons.get(buildId);
    this.reasons.delete(buildId);
    return reason;
  }
}
