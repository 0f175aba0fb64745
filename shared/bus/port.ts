/**
 * The Bus port: what buildfleet's services need from a message bus, in domain words.
 * Two adapters implement it: Kafka (kafkajs) and an embedded in-process bus for the
 * one-machine default. One conformance suite (test/integration/bus/conformance.ts) runs
 * against both (bus-kafka.test.ts, bus-embedded.test.ts).
 */
import type { TopicReport, TopicSpec } from './topic-spec.ts';

export type { TopicReport, TopicSpec } from './topic-spec.ts';

/** A consumed message, already decoded by the consumer's decoder. */
export interface BusRecord<T> {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit; kept as decimal strings. */
  readonly offset: string;
  readonly key: string | null;
  readonly value: T;
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch, as stamped by the producer side. */
  readonly timestamp: number;
}

export interface OutgoingMessage {
  key: string | null;
  /** Serialised as JSON; a Buffer is sent as it is (for tools and tests that send raw bytes). */
  value: unknown;
  headers?: Record<string, string>;
}

/** Turns a parsed JSON value into a typed message, or throws (the record then goes to the dead-letter topic). */
export type Decoder<T> = (value: unknown) => T;

/** Handles one record. Resolving marks it handled (its offset is committed); throwing is retried, then dead-lettered. */
export type RecordHandler<T> = (record: BusRecord<T>, signal: AbortSignal) => Promise<void>;

export interface ConsumeOptions<T> {
  topics: readonly string[];
  decode: Decoder<T>;
  handle: RecordHandler<T>;
  /**
   * How often a failing handler is retried (with backoff) before the record is dead-lettered.
   * A BuildfleetError with `retriable: false` is dead-lettered at once.
   * @default 3
   */
  handlerAttempts?: number;
}

export interface QueueOptions<T> extends ConsumeOptions<T> {
  /** The shared-queue group: each record goes to exactly one member of it. */
  group: string;
  /**
   * Where a group without committed offsets starts.
   * @default 'earliest' (a queue must not lose work produced before its first consumer)
   */
  start?: 'earliest' | 'latest';
}

export interface SubscribeOptions<T> extends ConsumeOptions<T> {
  /** Readable prefix of this subscriber's private group; a unique suffix is added. */
  name: string;
  /**
   * 'now': every record published after `subscribe()` resolved is delivered;
   * 'earliest': the whole retained topic first (to rebuild a view).
   * @default 'now'
   */
  start?: 'now' | 'earliest';
}

/** A live membership in a consumer group. */
export interface Subscription {
  readonly group: string;
  /** Resolves once this member has joined its group and received its first assignment. */
  readonly ready: Promise<void>;
  /** Stops delivery without leaving the group (no rebalance). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** The partitions currently assigned to this member. */
  assignment(): Array<{ topic: string; partition: number }>;
  /** The group member id (Kafka's, or the embedded bus's); empty until joined. */
  readonly memberId: string;
  /**
   * How many times this member has joined or rejoined its group (every rebalance counts).
   * Pausing never changes it: a paused member stays in the group.
   */
  readonly joins: number;
  /** Stops intake, waits for the record in hand, commits what was handled, leaves the group. */
  close(): Promise<void>;
}

export interface RequestOptions<A> {
  topic: string;
  replyTopic: string;
  key: string | null;
  value: unknown;
  decode: Decoder<A>;
  /** @default 5000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ServeOptions<Q> {
  topic: string;
  group: string;
  decode: Decoder<Q>;
  /** Produces the reply value for a request. */
  handle: (record: BusRecord<Q>, signal: AbortSignal) => Promise<unknown>;
}

export interface Bus {
  /** Which adapter this is, for logs and docs. */
  readonly kind: 'kafka' | 'embedded';
  /** Unique per bus instance; used as reply-to address. */
  readonly instanceId: string;
  readonly topicPrefix: string;
  publish(topic: string, messages: OutgoingMessage | readonly OutgoingMessage[], signal?: AbortSignal): Promise<void>;
  /** Joins a shared-queue group. */
  consume<T>(options: QueueOptions<T>): Promise<Subscription>;
  /** Subscribes in a private group: this subscriber sees every record. */
  subscribe<T>(options: SubscribeOptions<T>): Promise<Subscription>;
  /** Sends a request and waits for the reply with the same correlation id. */
  request<A>(options: RequestOptions<A>): Promise<A>;
  /** Answers requests as a member of a shared group (one member answers each request). */
  serve<Q>(options: ServeOptions<Q>): Promise<Subscription>;
  /**
   * How many members the consumer group has now (0 when it is empty or unknown). The scheduler
   * uses it to tell a user that no runner serves a request topic.
   */
  groupMembers(group: string): Promise<number>;
  /** The end offset (the offset the next record will get) of each partition of a topic. */
  endOffsets(topic: string): Promise<Map<number, string>>;
  /**
   * Every record of a topic from its beginning up to its end as of the call, in offset order per
   * partition, outside any consumer group (nothing is committed). For a compacted state topic this
   * is the latest value per key plus not yet compacted older ones. Records the decoder rejects
   * are left out and counted in `skipped`.
   */
  readAll<T>(
    topic: string,
    decode: Decoder<T>,
    signal?: AbortSignal,
  ): Promise<{ records: Array<BusRecord<T>>; skipped: number }>;
  /** Creates missing topics and aligns partitions and configuration of existing ones. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<TopicReport>;
  /** Closes every subscription (committing what was handled) and the connections. Idempotent. */
  close(): Promise<void>;
}

/** Header names the bus itself uses. */
export const BusHeaders = {
  correlationId: 'buildfleet-correlation-id',
  replyTo: 'buildfleet-reply-to',
  replyTopic: 'buildfleet-reply-topic',
  /** Epoch ms after which the requester has given up: a server skips the request. */
  deadline: 'buildfleet-deadline',
} as const;
