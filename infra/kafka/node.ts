import { existsSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import type { KafkaBroker } from './kafka-broker.ts';
import {
  clusterIdFromMeta,
  log4jProperties,
  nodeFiles,
  nodeProperties,
  renderProperties,
  scramFormatArgs,
  type BrokerSecurity,
  type Voter,
} from './config.ts';
import { launchJvm, type ExitStatus, type JvmProcess } from './jvm-process.ts';

const KAFKA_VERSION = '4.4.0';

/** Where infra/kafka/install.sh puts the broker jars. */
export const defaultLibsDir = fileURLToPath(new URL('../../.cache/kafka/libs', import.meta.url));

/** Everything needed to run one node; every field is filled in (defaults live in broker.ts). */
export interface NodeSpec {
  nodeId: number;
  dataDir: string;
  clusterId: string;
  port: number;
  controllerPort: number;
  voters: readonly Voter[];
  /** Absent: PLAINTEXT without authorizer. */
  security?: BrokerSecurity | undefined;
  heapMb: number;
  extraProperties: Record<string, string>;
  stopGraceMs: number;
  detached: boolean;
  libsDir: string;
  signal: AbortSignal | undefined;
}

/** A started node: its process runs, it is not necessarily ready yet. */
export interface LaunchedNode extends KafkaBroker {
  readonly jvm: JvmProcess;
}

/** The cluster id a data directory was formatted with, if it was. */
export async function existingClusterId(dataDir: string): Promise<string | undefined> {
  try {
    return clusterIdFromMeta(await readFile(join(nodeFiles(dataDir).logDir, 'meta.properties'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Writes the node's configuration, formats its storage (once) and starts the broker JVM. */
export async function launchNode(spec: NodeSpec): Promise<LaunchedNode> {
  throwIfAborted(spec.signal);
  if (!existsSync(join(spec.libsDir, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    throw new BuildfleetError(
      'infra-failed',
      `Kafka jars missing in ${spec.libsDir}: run bash infra/install.sh kafka`,
      {
        retriable: false,
        context: { libsDir: spec.libsDir },
      },
    );
  }
  const files = nodeFiles(spec.dataDir);
  await mkdir(files.logDir, { recursive: true });
  const properties = {
    ...nodeProperties({
      nodeId: spec.nodeId,
      port: spec.port,
      controllerPort: spec.controllerPort,
      logDir: files.logDir,
      voters: spec.voters,
      security: spec.security,
    }),
    ...spec.extraProperties,
  };
  await writeFile(files.serverProperties, renderProperties(properties));
  await writeFile(files.log4jProperties, renderProperties(log4jProperties(files.brokerLog)));

  const classpath = `${spec.libsDir}/*`;
  const logging = `-Dlog4j.configuration=file:${files.log4jProperties}`;
  await formatStorage(spec, classpath, logging);

  let jvm: JvmProcess;
  try {
    jvm = await launchJvm({
      jvmArgs: [
        `-Xms${Math.min(256, spec.heapMb)}m`,
        `-Xmx${spec.heapMb}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        logging,
        // Lets `dev.ts stop` check that a pid from a pid file is still this broker.
        `-Dbuildfleet.kafka.dataDir=${spec.dataDir}`,
      ],
      classpath,
      mainClass: 'kafka.Kafka',
      args: [files.serverProperties],
      consoleLog: files.consoleLog,
      detached: spec.detached,
    });
  } catch (error) {
    throw new BuildfleetError('infra-failed', `could not start java for the Kafka broker: ${String(error)}`, {
      cause: error,
      retriable: false,
    });
  }
  return {
    brokers: [`127.0.0.1:${spec.port}`],
    pid: jvm.pid,
    nodeId: spec.nodeId,
    port: spec.port,
    controllerPort: spec.controllerPort,
    dataDir: spec.dataDir,
    clusterId: spec.clusterId,
    logFile: files.brokerLog,
    exited: jvm.exited,
    stop: () => jvm.stop(spec.stopGraceMs),
    kill: () => jvm.kill(),
    jvm,
  };
}

async function formatStorage(spec: NodeSpec, classpath: string, logging: string): Promise<void> {
  const files = nodeFiles(spec.dataDir);
  // A short-lived JVM: without the optimising compiler and G1 it runs in about half the time.
  const jvmArgs = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', logging, '-cp', classpath];
  // --ignore-formatted keeps an existing (dev) data dir; a static voter list forbids --standalone.
  const formatArgs = [
    'format',
    '-t',
    spec.clusterId,
    '-c',
    files.serverProperties,
    '--ignore-formatted',
    ...scramFormatArgs(spec.security),
  ];
  const args = [...jvmArgs, 'kafka.tools.StorageTool', ...formatArgs];
  const result = await execa('java', args, { all: true, reject: false, timeout: 60_000, cancelSignal: spec.signal });
  if (result.isCanceled) throw new BuildfleetError('aborted', 'Kafka storage format aborted', { cause: result });
  if (result.failed) {
    throw new BuildfleetError('infra-failed', `Kafka storage format failed in ${spec.dataDir}:\n${result.all ?? ''}`, {
      retriable: false,
      context: { dataDir: spec.dataDir, exitCode: result.exitCode },
    });
  }
}

/**
 * For error messages: the node's console output, the broker log's errors with their exception
 * lines (the cause of a failed start is usually far above the shutdown chatter), and its last lines.
 */
export async function logTail(dataDir: string, lines = 15): Promise<string> {
  const files = nodeFiles(dataDir);
  const parts: string[] = [];
  const console = (await readEnd(files.consoleLog, 16 * 1024)).trimEnd();
  if (console !== '') parts.push(`--- ${files.consoleLog}\n${console.split('\n').slice(-lines).join('\n')}`);
  const brokerLog = (await readEnd(files.brokerLog, 256 * 1024)).trimEnd().split('\n');
  const errors = errorsWithExceptions(brokerLog).slice(0, 20);
  if (errors.length > 0) parts.push(`--- ${files.brokerLog} (errors)\n${errors.join('\n')}`);
  if (brokerLog.join('') !== '') {
    parts.push(`--- ${files.brokerLog} (last lines)\n${brokerLog.slice(-lines).join('\n')}`);
  }
  return parts.join('\n') || '(no broker output)';
}

/** ERROR/FATAL lines, each followed by its exception and "Caused by" lines (stack frames left out). */
function errorsWithExceptions(logLines: string[]): string[] {
  const picked: string[] = [];
  let inError = false;
  for (const line of logLines) {
    if (line.startsWith('[')) inError = / (ERROR|FATAL) /.test(line);
    else if (!inError || line.startsWith('\tat ') || line.startsWith('\t... ')) continue;
    if (inError) picked.push(line);
  }
  return picked;
}

async function readEnd(file: string, bytes: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

export function describeExit(status: ExitStatus): string {
  if (status.error !== undefined) return `could not run: ${status.error.message}`;
  return status.signal === null ? `exited with code ${String(status.code)}` : `was killed by ${status.signal}`;
}
