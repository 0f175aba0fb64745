import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Retries a Kafka admin call while it fails with an error kafkajs marks `retriable` (e.g.
 * NOT_LEADER_FOR_PARTITION or UNKNOWN_TOPIC_OR_PARTITION right after a topic was created,
 * which some admin calls do not retry themselves).
 */
export async function retryRetriable<T>(call: () => Promise<T>, attempts = 10, baseMs = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retriable = (error as { retriable?: unknown } | null)?.retriable === true;
      if (!retriable || attempt >= attempts) throw error;
      await sleep(Math.min(2000, baseMs * 2 ** (attempt - 1)));
    }
  }
}
