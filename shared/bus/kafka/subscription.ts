import type { Admin, Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { isBuildfleetError } from '../../errors/index.ts';
import type { Logger } from '../../log/index.ts';
import type { TopicPartition } from '../assignment.ts';
import type { ConsumeOptions, OutgoingMessage, Subscription } from '../port.ts';
import { processRecord, type RawRecord } from '../record-processor.ts';
import { retryRetriable } from './retry.ts';

export interface KafkaGroupSettings {
  /** @default 30000 */
  sessionTimeoutMs: number;
  /** @default 3000 */
  heartbeatIntervalMs: number;
  /** Longest wait of a fetch for new records. @default 1000 */
  maxWaitTimeMs: number;
}

interface Deps {
  kafka: Kafka;
  admin: () => Promise<Admin>;
  groupId: string;
  start: 'earliest' | 'latest' | 'now';
  /** Private groups are deleted from the cluster when their member closes. */
  privateGroup: boolean;
  deadletterTopic: string;
  publish: (topic: string, message: OutgoingMessage) => Promise<void>;
  logger: Logger;
  settings: KafkaGroupSettings;
  /** Turns a kafkajs failure into the error to report (a missing group ACL names the principal). */
  translate?: (error: unknown) => Error;
  /** The same for a failed connect (a refused principal, TLS). */
  translateConnect?: (error: unknown) => Error;
}

/**
 * One member of a Kafka consumer group. A record's offset is committed only after the record is
 * handled, so a member that dies loses nothing (at-least-once) and a member that closes commits
 * all it handled. Commits go out in the background, one request at a time carrying the latest
 * handled offset of each partition: the handler of the next record does not wait for a commit
 * round trip (which capped a consumer at about one record per round trip).
 */
export async function joinKafkaGroup<T>(options: ConsumeOptions<T>, deps: Deps): Promise<Subscription> {
  const { groupId, logger } = deps;
  if (deps.start === 'now') await startAtEnd(await deps.admin(), groupId, options.topics);
  const consumer: Consumer = deps.kafka.consumer({
    groupId,
    sessionTimeout: deps.settings.sessionTimeoutMs,
    heartbeatInterval: deps.settings.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(60_000, deps.settings.sessionTimeoutMs),
    maxWaitTimeInMs: deps.settings.maxWaitTimeMs,
    allowAutoTopicCreation: false,
  });
  const abort = new AbortController();
  let memberId = '';
  let joins = 0;
  let assignment: TopicPartition[] = [];
  let paused = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    memberId = event.payload.memberId;
    joins++;
    assignment = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
    markReady();
  });
  // A crash before the first join that no restart can mend (a refused principal, a missing
  // group ACL) fails the join instead of leaving a member that never reads.
  let joinFailure: Error | undefined;
  consumer.on(consumer.events.CRASH, (event) => {
    const { restart } = event.payload;
    const err = deps.translate ? deps.translate(event.payload.error) : event.payload.error;
    // Thrown as kafkajs raised it: the bus translates it (and may ask the brokers why).
    if (joins === 0 && (!restart || isRefusal(err))) joinFailure ??= event.payload.error;
    // Not restarted (e.g. GROUP_AUTHORIZATION_FAILED): this member reads nothing more; say why.
    logger.error(
      { err, group: groupId, restart },
      restart ? 'bus: consumer crashed' : `bus: consumer stopped: ${err.message}`,
    );
  });

  // Handled but not yet committed: the next offset per partition, and the commit going out.
  const toCommit = new Map<string, { topic: string; partition: number; offset: string }>();
  let committing: Promise<void> | null = null;
  async function commitPending(): Promise<void> {
    while (toCommit.size > 0) {
      const offsets = [...toCommit.values()];
      toCommit.clear();
      try {
        await consumer.commitOffsets(offsets);
      } catch (error) {
        // A rebalance or a lost connection: the records come again (to this member or another).
        logger.warn({ err: error, group: groupId, offsets }, 'bus: offsets not committed; records may come again');
      }
    }
    // Right after the check, with no await between: an offset added later starts a new round.
    committing = null;
  }
  function commitLater(topic: string, partition: number, offset: string): Promise<void> {
    toCommit.set(`${topic}:${partition}`, { topic, partition, offset });
    committing ??= commitPending();
    return committing;
  }

  async function eachMessage({ topic, partition, message }: EachMessagePayload): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? String(value[0] ?? '') : String(value);
    }
    const raw: RawRecord = {
      topic,
      partition,
      offset: message.offset,
      key: message.key ? message.key.toString('utf8') : null,
      value: message.value,
      headers,
      timestamp: Number(message.timestamp),
    };
    try {
      await processRecord(raw, options, {
        group: groupId,
        deadletterTopic: deps.deadletterTopic,
        publish: deps.publish,
        logger,
        signal: abort.signal,
      });
    } catch (error) {
      // Not handled: closing (a new member gets it), or the dead letter could not be written.
      if (!abort.signal.aborted) {
        logger.error({ err: error, topic, partition, offset: message.offset }, 'bus: record not handled, will retry');
        consumer.seek({ topic, partition, offset: message.offset });
      }
      return;
    }
    const committed = commitLater(topic, partition, (BigInt(message.offset) + 1n).toString());
    // While closing, the last records are committed before the member leaves.
    if (abort.signal.aborted) await committed;
  }

  await consumer.connect().catch((error: unknown) => {
    throw deps.translateConnect ? deps.translateConnect(error) : error;
  });
  await consumer.subscribe({ topics: [...options.topics], fromBeginning: deps.start !== 'latest' });
  await consumer.run({ autoCommit: false, eachMessage });
  if (joinFailure !== undefined) {
    await consumer.disconnect().catch(() => undefined); // also cancels a restart kafkajs planned
    throw joinFailure;
  }

  let closing: Promise<void> | null = null;
  const topicList = options.topics.map((topic) => ({ topic }));
  return {
    group: groupId,
    ready,
    pause: () => {
      paused = true;
      consumer.pause(topicList);
    },
    resume: () => {
      paused = false;
      consumer.resume(topicList);
    },
    get paused() {
      return paused;
    },
    assignment: () => [...assignment],
    get memberId() {
      return memberId;
    },
    get joins() {
      return joins;
    },
    close: () =>
      (closing ??= (async () => {
        abort.abort(new Error('subscription closed'));
        await committing;
        await consumer.disconnect();
        markReady();
        if (deps.privateGroup) {
          await deps
            .admin()
            .then((admin) => admin.deleteGroups([groupId]))
            .catch((error: unknown) => logger.debug({ err: error, group: groupId }, 'bus: private group not deleted'));
        }
      })()),
  };
}

function isRefusal(error: Error): boolean {
  return isBuildfleetError(error, 'bus-not-authorised') || isBuildfleetError(error, 'bus-auth-failed');
}

/** Commits the current end offsets for a new group, so that it starts with what comes next. */
async function startAtEnd(admin: Admin, groupId: string, topics: readonly string[]): Promise<void> {
  for (const topic of topics) {
    const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    await retryRetriable(() =>
      admin.setOffsets({
        groupId,
        topic,
        partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
      }),
    );
  }
}
