import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin } from 'kafkajs';
import type { Logger } from '../../log/index.ts';
import { BuildfleetError } from '../../errors/index.ts';
import { DEFAULT_TOPIC_PREFIX, topicNames } from '../../messages/topics.ts';
import { encodeMessages } from '../codec.ts';
import type { Bus, Decoder, OutgoingMessage, QueueOptions, SubscribeOptions, Subscription } from '../port.ts';
import { createRequestReply } from '../request-reply.ts';
import { tracked } from '../tracked.ts';
import type { TopicSpec } from '../topic-spec.ts';
import { createKafkaClient, groupCoordinatorRefusal, type KafkaConnection } from './client.ts';
import {
  isGroupCoordinatorNotFound,
  translateKafkaError,
  withGroupRefusal,
  type BusIdentity,
  type BusOperation,
} from './errors.ts';
import { lazyClient } from './lazy-client.ts';
import { joinKafkaGroup, type KafkaGroupSettings } from './subscription.ts';
import { kafkaEndOffsets, kafkaGroupMembers, kafkaReadAll } from './read-all.ts';
import { ensureKafkaTopics } from './topics.ts';

export interface KafkaBusOptions extends KafkaConnection, Partial<KafkaGroupSettings> {
  /** @default 'buildfleet' */
  topicPrefix?: string;
  logger: Logger;
}

const GROUP_DEFAULTS: KafkaGroupSettings = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  maxWaitTimeMs: 1_000,
};

/** The Bus port on Apache Kafka (kafkajs). */
export function createKafkaBus(options: KafkaBusOptions): Bus {
  const topicPrefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
  const deadletterTopic = topicNames(topicPrefix).deadletter;
  const instanceId = randomUUID();
  const logger = options.logger.child({ bus: 'kafka' });
  const kafka = createKafkaClient(options, logger);
  const identity: BusIdentity = { brokers: options.brokers, security: { sasl: options.sasl, tls: options.tls } };
  // Whether a call has succeeded yet: before, a closed connection is read as a refusal.
  let contact = false;
  const failure = (operation: BusOperation) => (error: unknown) =>
    translateKafkaError(error, identity, { ...operation, firstContact: !contact });
  /** Runs a call, its kafkajs failure translated (a refused principal, a missing ACL, TLS...). */
  async function guarded<T>(operation: BusOperation, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      contact = true;
      return result;
    } catch (error) {
      const group = operation.group;
      if (group === undefined || !isGroupCoordinatorNotFound(error)) throw failure(operation)(error);
      throw failure(operation)(withGroupRefusal(error, await groupCoordinatorRefusal(options, group)));
    }
  }
  const settings: KafkaGroupSettings = {
    sessionTimeoutMs: options.sessionTimeoutMs ?? GROUP_DEFAULTS.sessionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? GROUP_DEFAULTS.heartbeatIntervalMs,
    maxWaitTimeMs: options.maxWaitTimeMs ?? GROUP_DEFAULTS.maxWaitTimeMs,
  };
  const subscriptions = new Set<Subscription>();
  let closing: Promise<void> | null = null;

  function assertOpen(): void {
    if (closing) throw new BuildfleetError('bus-closed', 'bus is closed');
  }

  const producer = lazyClient(
    () =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
    failure({ access: 'connect' }),
  );
  const admin = lazyClient(() => kafka.admin(), failure({ access: 'connect' }));
  const connectedAdmin = (): Promise<Admin> => admin.connected();

  // kafkajs retries a produce to a missing topic for a long time; one metadata look-up per new
  // topic name turns that into an immediate, clear error. A topic the principal may not describe
  // is not listed either: asking for it by name tells the two apart (TOPIC_AUTHORIZATION_FAILED).
  const knownTopics = new Set<string>();
  async function assertTopicExists(topic: string): Promise<void> {
    if (knownTopics.has(topic)) return;
    const connected = await connectedAdmin();
    const topics = await guarded({ access: 'describe', topic }, () => connected.listTopics());
    for (const name of topics) knownTopics.add(name);
    if (knownTopics.has(topic)) return;
    try {
      await connected.fetchTopicMetadata({ topics: [topic] });
      knownTopics.add(topic);
    } catch (error) {
      if (!hasKafkaErrorType(error, 'UNKNOWN_TOPIC_OR_PARTITION')) throw failure({ access: 'write', topic })(error);
      throw new BuildfleetError(
        'topic-missing',
        `topic ${topic} does not exist (buildfleet topics ensure creates it)`,
        {
          cause: error,
          context: { topic },
        },
      );
    }
  }

  async function publish(
    topic: string,
    messages: OutgoingMessage | readonly OutgoingMessage[],
    signal?: AbortSignal,
  ): Promise<void> {
    signal?.throwIfAborted();
    assertOpen();
    const encoded = encodeMessages(messages);
    await assertTopicExists(topic);
    const p = await producer.connected();
    try {
      await p.send({ topic, acks: -1, messages: encoded });
    } catch (error) {
      throw publishError(topic, error, identity, !contact);
    }
    contact = true;
  }

  const publishOne = (topic: string, message: OutgoingMessage): Promise<void> => publish(topic, message);

  async function track(joined: Promise<Subscription>): Promise<Subscription> {
    const subscription = tracked(await joined, () => subscriptions.delete(subscription));
    subscriptions.add(subscription);
    return subscription;
  }

  function deps(
    groupId: string,
    start: 'earliest' | 'latest' | 'now',
    privateGroup: boolean,
    topics: readonly string[],
  ) {
    return {
      translate: failure({ access: 'read', topic: topics.join(', '), group: groupId }),
      translateConnect: failure({ access: 'connect', topic: topics.join(', '), group: groupId }),
      kafka,
      admin: connectedAdmin,
      groupId,
      start,
      privateGroup,
      deadletterTopic,
      publish: publishOne,
      logger,
      settings,
    };
  }

  const consume = <T>(o: QueueOptions<T>): Promise<Subscription> => {
    assertOpen();
    const operation: BusOperation = { access: 'read', topic: o.topics.join(', '), group: o.group };
    return track(guarded(operation, () => joinKafkaGroup(o, deps(o.group, o.start ?? 'earliest', false, o.topics))));
  };
  const subscribe = <T>(o: SubscribeOptions<T>): Promise<Subscription> => {
    assertOpen();
    const group = `${o.name}.${randomUUID()}`;
    const operation: BusOperation = { access: 'read', topic: o.topics.join(', '), group };
    return track(guarded(operation, () => joinKafkaGroup(o, deps(group, o.start ?? 'now', true, o.topics))));
  };
  const requestReply = createRequestReply({ instanceId, consume, subscribe, publish: publishOne });

  return {
    kind: 'kafka',
    instanceId,
    topicPrefix,
    publish,
    consume,
    subscribe,
    request: requestReply.request,
    serve: requestReply.serve,
    groupMembers: (group: string) =>
      guarded({ access: 'describe', group }, async () => kafkaGroupMembers(await connectedAdmin(), group)),
    endOffsets: (topic: string) =>
      guarded({ access: 'describe', topic }, async () => kafkaEndOffsets(await connectedAdmin(), topic)),
    readAll: <T>(topic: string, decode: Decoder<T>, signal?: AbortSignal) =>
      guarded({ access: 'read', topic }, async () =>
        kafkaReadAll({ kafka, admin: await connectedAdmin(), logger, topicPrefix }, topic, decode, signal),
      ),
    ensureTopics: (specs: readonly TopicSpec[]) =>
      guarded({ access: 'create', topic: specs.map((s) => s.name).join(', ') }, async () =>
        ensureKafkaTopics(await connectedAdmin(), specs),
      ),
    close: () =>
      (closing ??= (async () => {
        await requestReply.close();
        await Promise.all([...subscriptions].map((s) => s.close()));
        await producer.disconnect();
        await admin.disconnect();
      })()),
  };
}

function publishError(topic: string, error: unknown, identity: BusIdentity, firstContact: boolean): BuildfleetError {
  const text = error instanceof Error ? error.message : String(error);
  if (hasKafkaErrorType(error, 'UNKNOWN_TOPIC_OR_PARTITION')) {
    return new BuildfleetError('topic-missing', `topic ${topic} does not exist (buildfleet topics ensure creates it)`, {
      cause: error,
      context: { topic },
    });
  }
  if (hasKafkaErrorType(error, 'MESSAGE_TOO_LARGE')) {
    return new BuildfleetError('message-invalid', `a message for ${topic} is larger than the broker accepts`, {
      cause: error,
      context: { topic },
    });
  }
  const translated = translateKafkaError(error, identity, { access: 'write', topic, firstContact });
  if (translated.code !== 'bus-unavailable') return translated;
  return new BuildfleetError('bus-unavailable', `publish to ${topic} failed: ${text}`, {
    cause: error,
    context: { topic },
  });
}

/** kafkajs wraps protocol errors (retries exceeded -> cause / originalError); look down the chain. */
function hasKafkaErrorType(error: unknown, type: string): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const candidate = e as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (candidate.type === type) return true;
    e = candidate.cause ?? candidate.originalError;
  }
  return false;
}
