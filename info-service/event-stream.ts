/**
 * Live build events for server-sent-event clients (`GET /api/events`): each client has a
 * filter, and gets every build.event the service reads after it caught up and after the client
 * connected. A client that does not read (its buffer grows past a bound) is dropped rather
 * than held in memory.
 */
import type { BuildEvent } from '../shared/messages/index.ts';
import { StreamGate } from './stream-gate.ts';

/** What a client wants to see; absent fields match everything. */
export interface EventFilter {
  project?: string;
  buildId?: string;
  submitId?: string;
}

/** A connected client (an HTTP response, normally). */
export interface EventClient {
  /** Sends one SSE frame; returns the bytes the client has not yet taken. */
  send(frame: string): number;
  /** Closes the stream: `stopping` (the service) ends it, `slow` (the client reads nothing) destroys it. */
  close(why: 'stopping' | 'slow'): void;
}

export function matchesFilter(event: BuildEvent, filter: EventFilter): boolean {
  return (
    (filter.project === undefined || event.project === filter.project) &&
    (filter.buildId === undefined || event.buildId === filter.buildId) &&
    (filter.submitId === undefined || event.submitId === filter.submitId)
  );
}

/** One build.event as an SSE frame. */
export function eventFrame(event: BuildEvent): string {
  return `event: build.event\ndata: ${JSON.stringify(event)}\n\n`;
}

export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';

export class EventStream {
  private readonly clients = new Map<EventClient, EventFilter>();

  /**
   * @param maxBuffered bytes a client may leave unread before it is dropped
   * @param gate counts the open streams (with the followed logs: the service's one gate)
   */
  constructor(
    private readonly maxBuffered = 4 * 1024 * 1024,
    readonly gate = new StreamGate(),
  ) {}

  get size(): number {
    return this.clients.size;
  }

  add(client: EventClient, filter: EventFilter): () => void {
    this.clients.set(client, filter);
    return () => this.clients.delete(client);
  }

  publish(event: BuildEvent): void {
    let frame: string | undefined;
    for (const [client, filter] of this.clients) {
      if (!matchesFilter(event, filter)) continue;
      frame ??= eventFrame(event);
      this.sendTo(client, frame);
    }
  }

  keepAlive(): void {
    for (const client of this.clients.keys()) this.sendTo(client, KEEP_ALIVE_FRAME);
  }

  closeAll(): void {
    const clients = [...this.clients.keys()];
    this.clients.clear();
    for (const client of clients) client.close('stopping');
  }

  private sendTo(client: EventClient, frame: string): void {
    if (client.send(frame) > this.maxBuffered) {
      this.clients.delete(client);
      client.close('slow');
    }
  }
}
