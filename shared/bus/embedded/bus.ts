import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log/index.ts';
import { BuildfleetError } from '../../errors/index.ts';
import { DEFAULT_TOPIC_PREFIX, topicNames } from '../../messages/topics.ts';
import { decodeValue, encodeMessages } from '../codec.ts';
import type {
  Bus,
  BusRecord,
  Decoder,
  ConsumeOptions,
  OutgoingMessage,
  QueueOptions,
  SubscribeOptions,
  Subscription,
} from '../port.ts';
import { createRequestReply } from '../request-reply.ts';
import { tracked } from '../tracked.ts';
import type { TopicReport, TopicSpec } from '../topic-spec.ts';
import { EmbeddedBroker } from './broker.ts';
import { EmbeddedSubscription } from './subscription.ts';

export interface EmbeddedBusOptions {
  /** Clients sharing one broker see the same topics and groups. @default a new broker */
  broker?: EmbeddedBroker;
  /** @default 'buildfleet' */
  topicPrefix?: string;
  logger: Logger;
}

/** The Bus port in one process: the one-machine default of `buildfleet up`. */
export function createEmbeddedBus(options: EmbeddedBusOptions): Bus {
  const broker = options.broker ?? new EmbeddedBroker();
  const topicPrefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
  const deadletterTopic = topicNames(topicPrefix).deadletter;
  const instanceId = randomUUID();
  const logger = options.logger.child({ bus: 'embedded' });
  const subscriptions = new Set<Subscription>();
  let closing: Promise<void> | null = null;

  function assertOpen(): void {
    if (closing) throw new BuildfleetError('bus-closed', 'bus is closed');
  }

  // async: every failure is a rejected promise, as with Kafka.
  async function publish(
    topic: string,
    messages: OutgoingMessage | readonly OutgoingMessage[],
    signal?: AbortSignal,
  ): Promise<void> {
    signal?.throwIfAborted();
    assertOpen();
    const target = broker.topic(topic);
    const encoded = encodeMessages(messages);
    for (const message of encoded) target.append(message);
  }

  const publishOne = (topic: string, message: OutgoingMessage): Promise<void> => publish(topic, message);

  async function join<T>(
    consume: ConsumeOptions<T>,
    groupId: string,
    start: 'earliest' | 'latest',
    privateGroup: boolean,
  ): Promise<Subscription> {
    assertOpen();
    for (const name of consume.topics) broker.topic(name);
    const subscription = new EmbeddedSubscription(consume, {
      group: broker.group(groupId),
      topics: broker.topics,
      deadletterTopic,
      publish: publishOne,
      logger,
      start,
    });
    await subscription.start();
    const live = tracked(subscription, () => {
      subscriptions.delete(live);
      if (privateGroup) broker.dropGroupIfEmpty(groupId);
    });
    subscriptions.add(live);
    return live;
  }

  const consume = <T>(o: QueueOptions<T>): Promise<Subscription> => join(o, o.group, o.start ?? 'earliest', false);
  const subscribe = <T>(o: SubscribeOptions<T>): Promise<Subscription> =>
    join(o, `${o.name}.${randomUUID()}`, o.start === 'earliest' ? 'earliest' : 'latest', true);

  const requestReply = createRequestReply({ instanceId, consume, subscribe, publish: publishOne });

  return {
    kind: 'embedded',
    instanceId,
    topicPrefix,
    publish,
    consume,
    subscribe,
    request: requestReply.request,
    serve: requestReply.serve,
    groupMembers: (group: string) => Promise.resolve(broker.groupSize(group)),
    endOffsets: (topic: string) =>
      Promise.resolve(new Map(broker.topic(topic).partitions.map((log, partition) => [partition, String(log.length)]))),
    readAll: <T>(topic: string, decode: Decoder<T>, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      const records: Array<BusRecord<T>> = [];
      let skipped = 0;
      for (const log of broker.topic(topic).partitions) {
        for (const raw of log) {
          const decoded = decodeValue(raw.value, decode);
          if (decoded.ok) records.push({ ...raw, value: decoded.value });
          else skipped += 1;
        }
      }
      return Promise.resolve({ records, skipped });
    },
    ensureTopics: (specs: readonly TopicSpec[]): Promise<TopicReport> => broker.ensureTopics(specs),
    close: () =>
      (closing ??= (async () => {
        await requestReply.close();
        await Promise.all([...subscriptions].map((s) => s.close()));
      })()),
  };
}
