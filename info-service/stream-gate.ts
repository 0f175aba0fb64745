/**
 * How many long-lived responses (event streams, followed logs) the info service holds open:
 * per client address and in total. Each open stream holds a socket and buffers; without a cap,
 * one client could open them until the process runs out of file descriptors or memory. No I/O.
 */
import { HttpError } from '../shared/http/index.ts';

export interface StreamLimits {
  /** Open streams (event streams and followed logs together) of one client address. */
  maxPerClient: number;
  /** Open streams of all clients together. */
  maxTotal: number;
  /** A stream whose writes wait for the client longer than this is destroyed (its socket closed at once). */
  slowReaderMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxPerClient: 16, maxTotal: 1000, slowReaderMs: 30_000 };

export class StreamGate {
  readonly limits: StreamLimits;
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(limits: Partial<StreamLimits> = {}) {
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
  }

  /** Streams open now. */
  get open(): number {
    return this.total;
  }

  /**
   * Counts one more stream of `client` (its address) and returns the function that releases it
   * (a second call does nothing).
   * @throws HttpError 429 'too-many-streams' when the client or the service is at its limit
   */
  admit(client: string): () => void {
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.maxPerClient) {
      throw new HttpError(
        429,
        'too-many-streams',
        `${client} has ${mine} streams open, the most one client may (info.streams.maxPerClient); close one first`,
        { context: { limit: 'info.streams.maxPerClient' } },
      );
    }
    if (this.total >= this.limits.maxTotal) {
      throw new HttpError(
        429,
        'too-many-streams',
        `the service has ${this.total} streams open, the most it holds (info.streams.maxTotal); try again later`,
        { context: { limit: 'info.streams.maxTotal' } },
      );
    }
    this.perClient.set(client, mine + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left <= 0) this.perClient.delete(client);
      else this.perClient.set(client, left);
    };
  }
}
