import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../../log/index.ts';
import { BuildfleetError } from '../../errors/index.ts';
import { consumerGroupNames } from '../../messages/topics.ts';
import { decodeValue } from '../codec.ts';
import { retryRetriable } from './retry.ts';
import type { BusRecord, Decoder } from '../port.ts';

/** End offset per partition (the offset the next record gets). */
export async function kafkaEndOffsets(admin: Admin, topic: string): Promise<Map<number, string>> {
  const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, o.high]));
}

/** Members of a consumer group now; 0 when it has none or does not exist. */
export async function kafkaGroupMembers(admin: Admin, group: string): Promise<number> {
  const { groups } = await retryRetriable(() => admin.describeGroups([group]));
  const described = groups.find((g) => g.groupId === group);
  if (!described || described.state === 'Dead' || described.state === 'Empty') return 0;
  return described.members.length;
}

/**
 * Reads a topic from its low watermark to the end offsets taken at the start, with a throw-away
 * group that commits nothing (kafkajs needs a group id for a consumer). Used to load the
 * scheduler's compacted state topic at start-up.
 */
export async function kafkaReadAll<T>(
  deps: { kafka: Kafka; admin: Admin; logger: Logger; topicPrefix: string },
  topic: string,
  decode: Decoder<T>,
  signal?: AbortSignal,
  timeoutMs = 120_000,
): Promise<{ records: Array<BusRecord<T>>; skipped: number }> {
  signal?.throwIfAborted();
  const offsets = await retryRetriable(() => deps.admin.fetchTopicOffsets(topic));
  const remaining = new Map<number, bigint>();
  for (const o of offsets) if (BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high));
  const records: Array<BusRecord<T>> = [];
  let skipped = 0;
  if (remaining.size === 0) return { records, skipped };

  const groupId = `${consumerGroupNames(deps.topicPrefix).readAll}.${randomUUID()}`;
  const consumer = deps.kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
  });
  let startRun: () => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BuildfleetError('bus-timeout', `reading ${topic} did not reach its end in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = (): void => reject(new BuildfleetError('aborted', `reading ${topic} aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    startRun = () =>
      void consumer
        .run({
          autoCommit: false,
          eachMessage: ({ partition, message }) => {
            const end = remaining.get(partition);
            if (end === undefined) return Promise.resolve();
            const offset = BigInt(message.offset);
            if (offset < end) {
              const decoded = decodeValue(message.value, decode);
              if (decoded.ok) {
                const headers: Record<string, string> = {};
                for (const [name, value] of Object.entries(message.headers ?? {})) {
                  if (value !== undefined)
                    headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
                }
                records.push({
                  topic,
                  partition,
                  offset: message.offset,
                  key: message.key?.toString('utf8') ?? null,
                  value: decoded.value,
                  headers,
                  timestamp: Number(message.timestamp),
                });
              } else skipped += 1;
            }
            if (offset + 1n >= end) {
              remaining.delete(partition);
              if (remaining.size === 0) done();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    startRun();
    await finished;
  } finally {
    await consumer.disconnect().catch((error: unknown) => deps.logger.warn({ err: error }, 'read-all: disconnect'));
    // Nothing was committed, so the group would expire by itself; removing it keeps listings clean.
    await deps.admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return { records, skipped };
}
