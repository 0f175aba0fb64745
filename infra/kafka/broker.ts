/**
 * Real Apache Kafka brokers (KRaft, no ZooKeeper) for development and tests: a single node or a
 * small cluster, each node a JVM running broker and controller, bound to 127.0.0.1. The jars
 * come from infra/kafka/install.sh.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KafkaConfig } from 'kafkajs';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { newClusterId, type BrokerSecurity, type Voter } from './config.ts';
import type { KafkaBroker } from './kafka-broker.ts';
import { defaultLibsDir, describeExit, existingClusterId, launchNode, logTail, type LaunchedNode } from './node.ts';
import { freePorts } from './ports.ts';
import { waitForKafka } from './readiness.ts';

export type { KafkaBroker } from './kafka-broker.ts';
export type { BrokerSecurity } from './config.ts';

export interface BrokerOptions {
  /** Configuration, logs and Kafka's storage. Created when missing; reused when already formatted. */
  dataDir: string;
  /** Client port on 127.0.0.1 (PLAINTEXT, or SASL_SSL with `security`). @default a free port */
  port?: number;
  /** SCRAM users, a SASL_SSL client listener and an authorizer. @default none: PLAINTEXT, everyone may do anything */
  security?: BrokerSecurity;
  /** Controller port on 127.0.0.1. @default a free port */
  controllerPort?: number;
  /** JVM heap limit in MiB (-Xmx; -Xms is 256 or less). @default 512 */
  heapMb?: number;
  /** server.properties entries applied over the defaults. @default {} */
  extraProperties?: Record<string, string>;
  /** How long to wait for the broker to answer describeCluster. @default 60000 */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. @default 30000 */
  stopTimeoutMs?: number;
  /** Run in its own process group and outlive this process (the dev broker). @default false */
  detached?: boolean;
  /** Directory with the Kafka jars. @default <repo>/.cache/kafka/libs */
  libsDir?: string;
  /** Aborts starting; a half-started broker is killed. */
  signal?: AbortSignal;
}

export interface ClusterOptions {
  /** Parent directory; node N keeps its data in <dir>/node-N. */
  dir: string;
  /** Number of nodes, each broker and controller. @default 3 */
  size?: number;
  /** Per node, see BrokerOptions.heapMb. @default 512 */
  heapMb?: number;
  /** Applied to every node over the defaults. @default {} */
  extraProperties?: Record<string, string>;
  /** @default 60000 */
  readyTimeoutMs?: number;
  /** Per node, see BrokerOptions.stopTimeoutMs. @default 30000 */
  stopTimeoutMs?: number;
  /** @default <repo>/.cache/kafka/libs */
  libsDir?: string;
  signal?: AbortSignal;
}

export interface KafkaCluster {
  /** Bootstrap addresses of every node. */
  readonly brokers: string[];
  readonly nodes: KafkaBroker[];
  readonly clusterId: string;
  /** Stops all nodes at once (so a controller quorum stays up during their controlled shutdown). Idempotent. */
  stop(): Promise<void>;
}

const defaults = {
  heapMb: 512,
  readyTimeoutMs: 60_000,
  stopTimeoutMs: 30_000,
  clusterSize: 3,
} as const;

/** Starts a single-node broker and resolves once it answers describeCluster. */
export async function startBroker(options: BrokerOptions): Promise<KafkaBroker> {
  const [freeClient = 0, freeController = 0] =
    options.port === undefined || options.controllerPort === undefined ? await freePorts(2) : [];
  const port = options.port ?? freeClient;
  const controllerPort = options.controllerPort ?? freeController;
  const node = await launchNode({
    nodeId: 1,
    dataDir: options.dataDir,
    clusterId: (await existingClusterId(options.dataDir)) ?? newClusterId(),
    port,
    controllerPort,
    voters: [{ nodeId: 1, controllerPort }],
    security: options.security,
    heapMb: options.heapMb ?? defaults.heapMb,
    extraProperties: options.extraProperties ?? {},
    stopGraceMs: options.stopTimeoutMs ?? defaults.stopTimeoutMs,
    detached: options.detached ?? false,
    libsDir: options.libsDir ?? defaultLibsDir,
    signal: options.signal,
  });
  const client = options.security ? await adminClientOptions(options.security) : {};
  await waitUntilReady([node], options.readyTimeoutMs ?? defaults.readyTimeoutMs, options.signal, client);
  return withoutJvm(node);
}

/** Starts a cluster of `size` nodes sharing one cluster id and a static voter list. */
export async function startCluster(options: ClusterOptions): Promise<KafkaCluster> {
  const size = options.size ?? defaults.clusterSize;
  const ports = await freePorts(2 * size);
  const voters: Voter[] = Array.from({ length: size }, (_, i) => ({
    nodeId: i + 1,
    controllerPort: ports[size + i] ?? 0,
  }));
  const clusterId = newClusterId();
  const launches = await Promise.allSettled(
    voters.map((voter, i) =>
      launchNode({
        nodeId: voter.nodeId,
        dataDir: join(options.dir, `node-${voter.nodeId}`),
        clusterId,
        port: ports[i] ?? 0,
        controllerPort: voter.controllerPort,
        voters,
        heapMb: options.heapMb ?? defaults.heapMb,
        extraProperties: options.extraProperties ?? {},
        stopGraceMs: options.stopTimeoutMs ?? defaults.stopTimeoutMs,
        detached: false,
        libsDir: options.libsDir ?? defaultLibsDir,
        signal: options.signal,
      }),
    ),
  );
  const nodes = launches.flatMap((launch) => (launch.status === 'fulfilled' ? [launch.value] : []));
  const failed = launches.find((launch) => launch.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(nodes.map((node) => node.kill()));
    throw failed.reason;
  }
  await waitUntilReady(nodes, options.readyTimeoutMs ?? defaults.readyTimeoutMs, options.signal);
  const publicNodes = nodes.map(withoutJvm);
  let stopping: Promise<void> | undefined;
  return {
    brokers: publicNodes.flatMap((node) => node.brokers),
    nodes: publicNodes,
    clusterId,
    stop: () => (stopping ??= Promise.all(publicNodes.map((node) => node.stop())).then(() => undefined)),
  };
}

/** Waits until every node answers and the cluster lists all of them; kills them all otherwise. */
async function waitUntilReady(
  nodes: LaunchedNode[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
  client: Pick<KafkaConfig, 'ssl' | 'sasl'> = {},
): Promise<void> {
  const firstExit = Promise.race(nodes.map((node) => node.exited.then(() => node)));
  const brokers = nodes.flatMap((node) => node.brokers);
  const clusterId = nodes[0]?.clusterId ?? '';
  const outcome = await waitForKafka(
    { brokers, expectedBrokers: nodes.length, clusterId, client },
    { timeoutMs, stopWaiting: firstExit, signal },
  );
  if (outcome.ready) return;
  const exitedNode = nodes.find((node) => node.jvm.hasExited());
  await Promise.all(nodes.map((node) => node.kill()));
  const context = { brokers, dataDirs: nodes.map((node) => node.dataDir) };
  if (outcome.reason === 'aborted') {
    throw new BuildfleetError('aborted', 'Kafka start aborted', { cause: signal?.reason, context });
  }
  const culprit = exitedNode ?? nodes[0];
  const tail = culprit === undefined ? '' : await logTail(culprit.dataDir);
  const what =
    exitedNode === undefined
      ? `not ready after ${timeoutMs} ms`
      : `node ${exitedNode.nodeId} ${describeExit(await exitedNode.exited)} before it was ready`;
  throw new BuildfleetError('infra-failed', `Kafka broker on ${brokers.join(',')}: ${what}\n${tail}`, { context });
}

/** How the readiness probe reaches a secured broker: as `admin`, trusting the listener's CA. */
async function adminClientOptions(security: BrokerSecurity): Promise<Pick<KafkaConfig, 'ssl' | 'sasl'>> {
  const password = security.scramUsers.admin ?? '';
  // The broker's own key and certificate, for a listener that requires client certificates.
  const keystore = await readFile(security.tls.keystoreFile, 'utf8');
  const blocks = (kind: RegExp): string =>
    (keystore.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [])
      .filter((block) => kind.test(block.slice(0, 40)))
      .join('\n');
  return {
    ssl: { ca: await readFile(security.tls.caFile), key: blocks(/PRIVATE KEY/), cert: blocks(/CERTIFICATE/) },
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password },
  };
}

function withoutJvm(node: LaunchedNode): KafkaBroker {
  const { jvm: _jvm, ...broker } = node;
  return broker;
}
