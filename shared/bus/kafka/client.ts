import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { BusSecurity } from '../../config/fragments.ts';
import type { Logger } from '../../log/index.ts';
import { kafkaSecurityOptions } from './security.ts';

export interface KafkaConnection extends BusSecurity {
  brokers: string[];
  clientId: string;
  /** @default 10000 */
  connectionTimeoutMs?: number;
  /** How often a failed request is retried (with backoff) before the call fails. @default 8 */
  retries?: number;
}

/** kafkajs client whose logs go to our logger (its INFO chatter at debug level). */
export function createKafkaClient(connection: KafkaConnection, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const security = kafkaSecurityOptions(connection);
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: security.ssl,
    ...(security.sasl ? { sasl: security.sasl } : {}),
    connectionTimeout: connection.connectionTimeoutMs ?? 10_000,
    retry: { initialRetryTime: 200, retries: connection.retries ?? 8 },
    logLevel: logLevel.INFO,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        const data = { ...fields, namespace };
        if (level === logLevel.ERROR) log.error(data, message);
        else if (level === logLevel.WARN) log.warn(data, message);
        else log.debug(data, message);
      },
  });
}

/**
 * Why the brokers gave no coordinator for a group: kafkajs reports a refused FindCoordinator as
 * "Failed to find group coordinator" and keeps the broker's answer for its debug log. Asked
 * again on a short-lived client that listens to that log; only on that failure path. Resolves
 * the broker's error type (GROUP_AUTHORIZATION_FAILED...) or undefined.
 */
export async function groupCoordinatorRefusal(
  connection: KafkaConnection,
  groupId: string,
): Promise<string | undefined> {
  let heard: string | undefined;
  const security = kafkaSecurityOptions(connection);
  const probe = new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: security.ssl,
    ...(security.sasl ? { sasl: security.sasl } : {}),
    connectionTimeout: connection.connectionTimeoutMs ?? 10_000,
    retry: { retries: 0 },
    logLevel: logLevel.DEBUG,
    logCreator:
      () =>
      ({ log: entry }: LogEntry) => {
        const type = (entry['error'] as { type?: unknown } | null | undefined)?.type;
        if (typeof type === 'string' && type.endsWith('_AUTHORIZATION_FAILED')) heard ??= type;
      },
  });
  const admin = probe.admin();
  try {
    await admin.connect();
    await admin.describeCluster(); // loads the broker list describeGroups needs
    await admin.describeGroups([groupId]);
  } catch {
    // The answer, if any, was heard in the log.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return heard;
}
