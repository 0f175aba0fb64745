import { randomUUID } from 'node:crypto';
import { BuildfleetError, isErrorCode, toBuildfleetError } from '../errors/index.ts';
import {
  BusHeaders,
  type Bus,
  type BusRecord,
  type OutgoingMessage,
  type QueueOptions,
  type RequestOptions,
  type ServeOptions,
  type SubscribeOptions,
  type Subscription,
} from './port.ts';

/** Header on a reply that carries a failure instead of a value: `{ code, message }` as JSON. */
const ERROR_HEADER = 'buildfleet-error';
const DEFAULT_TIMEOUT_MS = 5000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface RequesterDeps {
  instanceId: string;
  subscribe: (options: SubscribeOptions<unknown>) => Promise<Subscription>;
  publish: (topic: string, message: OutgoingMessage) => Promise<void>;
}

interface RequestReplyDeps extends RequesterDeps {
  consume: <Q>(options: QueueOptions<Q>) => Promise<Subscription>;
}

/**
 * The request/serve part of the Bus port, the same for every adapter: built from the adapter's
 * own publish, consume and subscribe. `close` ends the requester's reply subscriptions and fails
 * the requests still waiting; the adapter calls it before it closes its other subscriptions.
 */
export function createRequestReply(
  deps: RequestReplyDeps,
): Pick<Bus, 'request' | 'serve'> & { close(): Promise<void> } {
  const requester = createRequester(deps);
  return {
    request: (options) => requester.request(options),
    serve: (options) => serveRequests({ consume: deps.consume, publish: deps.publish }, options),
    close: () => requester.close(),
  };
}

/**
 * The private group a requester reads its replies with (`subscribe` adds a unique suffix): named
 * after the reply topic, so that it carries the topic prefix (ACLs grant `<reply topic>.reply.*`).
 */
export function replyGroupName(replyTopic: string, instanceId: string): string {
  return `${replyTopic}.reply.${instanceId}`;
}

/**
 * Request/reply over two topics, built from the bus's own publish and subscribe so that every
 * adapter gets the same behaviour. One private reply subscription per reply topic and bus
 * instance; replies are matched by correlation id and addressed by the instance id.
 */
function createRequester(deps: RequesterDeps): {
  request<A>(options: RequestOptions<A>): Promise<A>;
  close(): Promise<void>;
} {
  const pending = new Map<string, Pending>();
  const listeners = new Map<string, Promise<Subscription>>();

  function listen(replyTopic: string): Promise<Subscription> {
    let listener = listeners.get(replyTopic);
    if (!listener) {
      listener = deps.subscribe({
        name: replyGroupName(replyTopic, deps.instanceId),
        topics: [replyTopic],
        start: 'now',
        decode: (value) => value,
        handle: (record) => {
          settle(record);
          return Promise.resolve();
        },
      });
      listeners.set(replyTopic, listener);
      // A failed subscription must not stay cached.
      listener.catch(() => listeners.delete(replyTopic));
    }
    return listener;
  }

  function settle(record: BusRecord<unknown>): void {
    if (record.headers[BusHeaders.replyTo] !== deps.instanceId) return;
    const id = record.headers[BusHeaders.correlationId];
    const waiting = id === undefined ? undefined : pending.get(id);
    if (!waiting || id === undefined) return;
    pending.delete(id);
    const failure = record.headers[ERROR_HEADER];
    if (failure !== undefined) waiting.reject(replyError(failure));
    else waiting.resolve(record.value);
  }

  async function request<A>(options: RequestOptions<A>): Promise<A> {
    options.signal?.throwIfAborted();
    await listen(options.replyTopic);
    const correlationId = randomUUID();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(correlationId);
        reject(
          new BuildfleetError('bus-timeout', `no reply on ${options.replyTopic} within ${timeoutMs} ms`, {
            context: { topic: options.topic, correlationId },
          }),
        );
      }, timeoutMs);
      const onAbort = (): void => {
        clearTimeout(timer);
        pending.delete(correlationId);
        reject(new BuildfleetError('aborted', 'request aborted', { cause: options.signal?.reason }));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      pending.set(correlationId, {
        resolve: (value) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
    });
    try {
      await deps.publish(options.topic, {
        key: options.key,
        value: options.value,
        headers: {
          [BusHeaders.correlationId]: correlationId,
          [BusHeaders.replyTo]: deps.instanceId,
          [BusHeaders.replyTopic]: options.replyTopic,
          [BusHeaders.deadline]: String(Date.now() + timeoutMs),
        },
      });
    } catch (error) {
      pending.get(correlationId)?.reject(toBuildfleetError(error, 'bus-unavailable'));
    }
    const value = await reply;
    try {
      return options.decode(value);
    } catch (error) {
      throw toBuildfleetError(error, 'message-invalid');
    }
  }

  async function close(): Promise<void> {
    for (const waiting of pending.values()) waiting.reject(new BuildfleetError('bus-closed', 'bus closed'));
    pending.clear();
    const subscriptions = await Promise.allSettled([...listeners.values()]);
    listeners.clear();
    const live = subscriptions.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    await Promise.all(live.map((s) => s.close()));
  }

  return { request, close };
}

/** Answers requests as a member of a shared group; a failing handler answers with an error reply. */
function serveRequests<Q>(
  deps: {
    consume: (options: QueueOptions<Q>) => Promise<Subscription>;
    publish: (topic: string, message: OutgoingMessage) => Promise<void>;
  },
  options: ServeOptions<Q>,
): Promise<Subscription> {
  return deps.consume({
    topics: [options.topic],
    group: options.group,
    // A new serving group still answers requests sent before it joined; expired ones are skipped.
    start: 'earliest',
    decode: options.decode,
    handlerAttempts: 1,
    handle: async (record, signal) => {
      const replyTo = record.headers[BusHeaders.replyTo];
      const replyTopic = record.headers[BusHeaders.replyTopic];
      const correlationId = record.headers[BusHeaders.correlationId];
      if (replyTo === undefined || replyTopic === undefined || correlationId === undefined) {
        throw new BuildfleetError('message-invalid', 'request without reply-to, reply-topic or correlation-id header');
      }
      if (Number(record.headers[BusHeaders.deadline] ?? Infinity) < Date.now()) return;
      const headers: Record<string, string> = {
        [BusHeaders.correlationId]: correlationId,
        [BusHeaders.replyTo]: replyTo,
      };
      let value: unknown = null;
      try {
        value = await options.handle(record, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        const failure = toBuildfleetError(error);
        headers[ERROR_HEADER] = JSON.stringify({ code: failure.code, message: failure.message });
      }
      await deps.publish(replyTopic, { key: replyTo, value, headers });
    },
  });
}

function replyError(header: string): BuildfleetError {
  try {
    const parsed = JSON.parse(header) as { code?: unknown; message?: unknown };
    const code = isErrorCode(parsed.code) ? parsed.code : 'internal';
    return new BuildfleetError(code, typeof parsed.message === 'string' ? parsed.message : 'request failed');
  } catch {
    return new BuildfleetError('internal', 'request failed (unreadable error reply)');
  }
}
