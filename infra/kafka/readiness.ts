import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

export interface ReadinessProbe {
  /** host:port addresses the probe connects to. */
  brokers: string[];
  /** The cluster counts as ready when describeCluster lists at least this many brokers... */
  expectedBrokers: number;
  /** ...and reports this cluster id (so another broker already on the port does not count). */
  clusterId: string;
  /** How the probe authenticates to a secured broker (kafkajs `ssl` and `sasl`). @default plaintext */
  client?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

/** Why waiting stopped early, when it did. */
export type WaitOutcome = { ready: true } | { ready: false; reason: 'timeout' | 'exited' | 'aborted' };

/**
 * Polls until every address accepts TCP connections and a Kafka admin client gets an answer to
 * describeCluster listing the expected brokers. Stops early when `stopWaiting` resolves (the
 * process exited) or the signal aborts.
 */
export async function waitForKafka(
  probe: ReadinessProbe,
  options: { timeoutMs: number; stopWaiting: Promise<unknown>; signal?: AbortSignal },
): Promise<WaitOutcome> {
  const pollMs = 250;
  const deadline = Date.now() + options.timeoutMs;
  let exited = false;
  const stop = new AbortController();
  void options.stopWaiting.then(() => {
    exited = true;
    stop.abort();
  });
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([stop.signal, options.signal]);
  try {
    while (Date.now() < deadline) {
      if (await isReady(probe)) return { ready: true };
      if (signal.aborted) break;
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
    }
  } finally {
    stop.abort(); // releases the listener on the caller's signal
  }
  if (exited) return { ready: false, reason: 'exited' };
  if (options.signal?.aborted) return { ready: false, reason: 'aborted' };
  return { ready: false, reason: 'timeout' };
}

async function isReady(probe: ReadinessProbe): Promise<boolean> {
  const accepting = await Promise.all(probe.brokers.map(acceptsConnections));
  if (!accepting.every(Boolean)) return false;
  try {
    const cluster = await describeCluster(probe.brokers, probe.client ?? {});
    return cluster.clusterId === probe.clusterId && cluster.brokers.length >= probe.expectedBrokers;
  } catch {
    return false;
  }
}

function acceptsConnections(address: string): Promise<boolean> {
  const [host = '127.0.0.1', port = '0'] = address.split(':');
  return acceptsTcp(host, Number(port));
}

/** True when something listens at host:port (a connect within a second). */
export function acceptsTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

async function describeCluster(
  brokers: string[],
  client: Pick<KafkaConfig, 'ssl' | 'sasl'>,
): Promise<{ clusterId: string; brokers: unknown[] }> {
  const kafka = new Kafka({
    ...client,
    clientId: 'buildfleet-readiness-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.describeCluster();
  } finally {
    await admin.disconnect();
  }
}
