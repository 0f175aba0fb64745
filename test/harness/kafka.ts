/**
 * Kafka for tests. A test file calls `useKafka()` once, at its top level (`await useKafka()`): it gets
 * the run-wide broker the test runner started (BUILDFLEET_TEST_BROKERS), or else a broker of its
 * own that is stopped and removed after the file's tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Admin, ITopicConfig } from 'kafkajs';
import { startBroker, type KafkaBroker } from '../../infra/kafka/broker.ts';
import { waitForTopicLeaders } from '../../shared/bus/kafka/topics.ts';

/** Comma-separated host:port list of a broker shared by a whole test run (set by the runner). */
export const TEST_BROKERS_ENV = 'BUILDFLEET_TEST_BROKERS';

export interface TestBroker {
  broker: KafkaBroker;
  brokers: string[];
  /** Stops the broker and removes its data directory. Idempotent. */
  cleanup: () => Promise<void>;
}

/** Starts a single-node broker on free ports in a new temporary directory. */
export async function startTestBroker(options: { signal?: AbortSignal } = {}): Promise<TestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'buildfleet-kafka-'));
  let broker: KafkaBroker;
  try {
    // Test data is thrown away, so a shutdown that hangs is not waited on for long.
    broker = await startBroker({ dataDir, stopTimeoutMs: 10_000, signal: options.signal });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    })());
  return { broker, brokers: broker.brokers, cleanup };
}

/** Brokers for this test file; see the module comment. Each call without the env var starts a broker. */
export async function useKafka(options: { signal?: AbortSignal } = {}): Promise<{ brokers: string[] }> {
  const shared = sharedBrokers();
  if (shared !== undefined) return { brokers: shared };
  const { brokers, cleanup } = await startTestBroker(options);
  after(cleanup);
  return { brokers };
}

function sharedBrokers(): string[] | undefined {
  const brokers = (process.env[TEST_BROKERS_ENV] ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
  return brokers.length > 0 ? brokers : undefined;
}

/** Creates topics and waits until every partition has a leader (kafkajs' own wait is unreliable on KRaft). */
export async function createTopicsAndWait(
  admin: Admin,
  topics: ITopicConfig[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  await waitForTopicLeaders(
    admin,
    topics.map((topic) => topic.topic),
    options,
  );
}
