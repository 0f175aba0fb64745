/**
 * A replicated topic on a real three-node KRaft cluster keeps taking writes with acks=all and
 * keeps serving reads after the partition leader's JVM is SIGKILLed: two replicas remain, which
 * is exactly min.insync.replicas.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin, type PartitionMetadata } from 'kafkajs';
import { startCluster, type KafkaCluster } from '../../infra/kafka/broker.ts';
import { createTopicsAndWait } from '../harness/kafka.ts';
import { uniqueName } from '../harness/names.ts';

const messagesPerPhase = 10;

describe('Kafka three-node cluster failover', { timeout: 240_000 }, () => {
  let dir: string;
  let cluster: KafkaCluster | undefined;
  let clusterStartMs = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildfleet-kafka-cluster-'));
    const started = performance.now();
    cluster = await startCluster({ dir, size: 3, stopTimeoutMs: 15_000 });
    clusterStartMs = Math.round(performance.now() - started);
  });

  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('produces with acks=all and consumes everything after the leader is killed', async (t) => {
    assert.ok(cluster);
    t.diagnostic(`3-node cluster started in ${clusterStartMs} ms`);
    const topic = uniqueName('failover');
    const kafka = new Kafka({
      clientId: uniqueName('failover-test'),
      brokers: cluster.brokers,
      logLevel: logLevel.NOTHING, // connection errors to the killed node are expected here
      connectionTimeout: 2000,
      retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 10 },
    });

    const admin = kafka.admin();
    await admin.connect();
    t.after(() => admin.disconnect());
    await createTopicsAndWait(admin, [
      { topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
    ]);

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    t.after(() => producer.disconnect());
    const send = (phase: string): Promise<unknown> =>
      producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: messagesPerPhase }, (_, i) => ({ value: `${phase}-${i}` })),
      });
    const expected = (phase: string): string[] => Array.from({ length: messagesPerPhase }, (_, i) => `${phase}-${i}`);

    await send('before');
    const running = await startCollecting(kafka, topic, t);
    await running.waitForAll(expected('before'), 30_000);

    const leaderBefore = await partitionZero(admin, topic);
    assert.equal(leaderBefore.isr.length, 3, 'all three replicas in sync before the kill');
    const victim = cluster.nodes.find((node) => node.nodeId === leaderBefore.leader);
    assert.ok(victim, `leader ${leaderBefore.leader} is one of the cluster's nodes`);
    await victim.kill();
    const killedAt = performance.now();

    // The controller fences the dead node (broker.session.timeout.ms) and elects a new leader from the ISR.
    const leaderAfter = await waitForPartition(
      admin,
      topic,
      (p) => p.leader !== victim.nodeId && p.leader >= 0 && !p.isr.includes(victim.nodeId),
      45_000,
    );
    assert.equal(leaderAfter.isr.length, 2, 'two replicas left in sync: exactly min.insync.replicas');
    const elapsed = (): number => Math.round(performance.now() - killedAt);
    t.diagnostic(`leader ${victim.nodeId} killed; node ${leaderAfter.leader} leads after ${elapsed()} ms`);

    await send('after');
    const all = [...expected('before'), ...expected('after')];
    t.diagnostic(`acks=all produce done ${elapsed()} ms after the kill`);
    await running.waitForAll(all, 60_000);
    t.diagnostic(`running consumer had everything ${elapsed()} ms after the kill`);

    // A new group reads the whole partition from the surviving replicas.
    const fresh = await startCollecting(kafka, topic, t);
    await fresh.waitForAll(all, 60_000);
    t.diagnostic(`new consumer group read everything ${elapsed()} ms after the kill`);
  });
});

interface Collector {
  /** Resolves once every expected value has arrived (duplicates allowed: delivery is at least once). */
  waitForAll(values: string[], timeoutMs: number): Promise<void>;
}

/** A consumer in a new group reading the topic from the beginning; disconnected after the test. */
async function startCollecting(
  kafka: Kafka,
  topic: string,
  t: { after: (fn: () => Promise<void>) => void },
): Promise<Collector> {
  const received = new Set<string>();
  let onMessage = (): void => undefined;
  // kafkajs keeps fetching from a dead leader until its retries run out, then restarts the consumer
  // with fresh metadata. Each retry first waits for the other fetchers' long polls (maxWaitTimeInMs,
  // 5 s by default): with 1 s and 5 retries the consumer is back within ~10 s instead of ~35 s.
  const consumer = kafka.consumer({
    groupId: uniqueName('failover-group'),
    sessionTimeout: 10_000,
    maxWaitTimeInMs: 1000,
    retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 5 },
  });
  await consumer.connect();
  t.after(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.add(message.value?.toString() ?? '');
      onMessage();
      return Promise.resolve();
    },
  });
  return {
    async waitForAll(values, timeoutMs) {
      const complete = (): boolean => values.every((value) => received.has(value));
      if (complete()) return;
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          onMessage = () => {
            if (complete()) resolve();
          };
          timer = setTimeout(() => {
            const missing = values.filter((value) => !received.has(value));
            reject(new Error(`after ${timeoutMs} ms still missing ${missing.length} messages: ${missing.join(',')}`));
          }, timeoutMs);
        });
      } finally {
        clearTimeout(timer);
        onMessage = () => undefined;
      }
    },
  };
}

async function partitionZero(admin: Admin, topic: string): Promise<PartitionMetadata> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partition = metadata.topics[0]?.partitions.find((p) => p.partitionId === 0);
  assert.ok(partition, `partition 0 of ${topic} in the metadata`);
  return partition;
}

/** Polls the partition's metadata (there is no event for a leader change) until `ready` holds. */
async function waitForPartition(
  admin: Admin,
  topic: string,
  ready: (partition: PartitionMetadata) => boolean,
  timeoutMs: number,
): Promise<PartitionMetadata> {
  const deadline = Date.now() + timeoutMs;
  let last: PartitionMetadata | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await partitionZero(admin, topic);
      if (ready(last)) return last;
    } catch (error) {
      lastError = error; // the admin may still be talking to the dead node
    }
    await sleep(250);
  }
  assert.fail(
    `partition 0 of ${topic} not failed over after ${timeoutMs} ms: ${JSON.stringify(last)} ${String(lastError)}`,
  );
}
