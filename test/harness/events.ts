/** Recording messages of a topic and waiting for build events: what the cluster tests and benches share. */
import { createHash } from 'node:crypto';
import type { Bus, Subscription } from '../../shared/bus/index.ts';
import { decoderFor, type BuildEvent, type MessageOf, type MessageType } from '../../shared/messages/index.ts';
import { waitFor } from './wait.ts';

/** The states a runner ends a build in. */
export const END_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'timed-out']);

/**
 * Subscribes `name` (its own consumer group) to `topic` and hands every decoded message to
 * `handle` (by default: appends it to the returned array). Resolves when the subscription is
 * ready; close it through the returned subscription.
 */
export async function recordTopic<K extends MessageType>(
  bus: Bus,
  options: { name: string; topic: string; type: K; handle?: (value: MessageOf<K>) => void },
): Promise<{ values: Array<MessageOf<K>>; subscription: Subscription }> {
  const values: Array<MessageOf<K>> = [];
  const handle = options.handle ?? ((value: MessageOf<K>) => void values.push(value));
  const subscription = await bus.subscribe<MessageOf<K>>({
    name: options.name,
    topics: [options.topic],
    decode: decoderFor(options.type),
    handle: async (r) => handle(r.value),
  });
  await subscription.ready;
  return { values, subscription };
}

/** The first event of the build in one of `states`, waiting for it (polling every `intervalMs`). */
export async function eventReached(
  events: readonly BuildEvent[],
  buildId: string,
  states: ReadonlySet<string> | readonly string[],
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<BuildEvent> {
  const wanted = new Set(states);
  const find = () => events.find((e) => e.buildId === buildId && wanted.has(e.state));
  await waitFor(
    () => find() !== undefined,
    `build ${buildId} to reach ${[...wanted].join('/')}`,
    timeoutMs,
    intervalMs,
  );
  return find() as BuildEvent;
}

/** The body of a GET that must answer 200. */
export async function fetchBytes(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}, expected 200`);
  return Buffer.from(await response.arrayBuffer());
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
