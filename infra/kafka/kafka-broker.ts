/** A running Kafka node, as startBroker() returns it and node.ts launches it (a module of its own: both import it). */
import type { ExitStatus } from './jvm-process.ts';

export interface KafkaBroker {
  /** Bootstrap addresses (host:port) for Kafka clients. */
  readonly brokers: string[];
  readonly pid: number;
  /** Kafka node.id, as reported in topic metadata (partition leaders). */
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  readonly clusterId: string;
  /** The broker's log4j output. */
  readonly logFile: string;
  /** Resolves when the JVM has exited, for whatever reason. */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM (controlled shutdown), SIGKILL after stopTimeoutMs. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. Idempotent. */
  kill(): Promise<void>;
}
