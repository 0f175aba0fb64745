/**
 * The developer's Kafka broker: one node on 127.0.0.1:9092 (KAFKA_PORT overrides) with its data
 * in var/kafka, running in the background until stopped.
 *   node --import tsx infra/kafka/dev.ts start   (npm run kafka:start)
 *   node --import tsx infra/kafka/dev.ts stop    (npm run kafka:stop)
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { startBroker } from './broker.ts';
import { commandLine, isRunning, stopByPid } from './jvm-process.ts';
import { acceptsTcp } from './readiness.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = join(repoRoot, 'var', 'kafka');
const pidFile = join(dataDir, 'broker.pid');
const stopGraceMs = 30_000;

/** The pid of the dev broker when it is running; a stale pid file (or a reused pid) counts as not running. */
async function runningBrokerPid(): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return undefined;
  const isOurBroker = commandLine(pid)?.includes(`-Dbuildfleet.kafka.dataDir=${dataDir}`) ?? false;
  return isOurBroker ? pid : undefined;
}

function portInUse(port: number): Promise<boolean> {
  return acceptsTcp('127.0.0.1', port);
}

async function start(port: number): Promise<void> {
  const running = await runningBrokerPid();
  if (running !== undefined) {
    console.log(`kafka: already running (pid ${running}, data in ${dataDir})`);
    return;
  }
  if (await portInUse(port)) {
    throw new BuildfleetError('infra-failed', `port 127.0.0.1:${port} is taken by another process (set KAFKA_PORT)`, {
      retriable: false,
      context: { port },
    });
  }
  await mkdir(dataDir, { recursive: true });
  const broker = await startBroker({ dataDir, port, detached: true, stopTimeoutMs: stopGraceMs });
  await writeFile(pidFile, `${broker.pid}\n`);
  console.log(`kafka: ready on ${broker.brokers.join(',')} (pid ${broker.pid}, log ${broker.logFile})`);
}

async function stop(): Promise<void> {
  const pid = await runningBrokerPid();
  if (pid === undefined) {
    console.log('kafka: not running');
  } else {
    const killed = await stopByPid(pid, stopGraceMs);
    console.log(killed ? `kafka: killed (pid ${pid}) after ${stopGraceMs} ms` : `kafka: stopped (pid ${pid})`);
  }
  await rm(pidFile, { force: true });
}

function portFromEnvironment(): number {
  const text = process.env['KAFKA_PORT'] ?? '9092';
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BuildfleetError('config-invalid', `KAFKA_PORT must be a TCP port, got ${JSON.stringify(text)}`, {
      context: { key: 'KAFKA_PORT' },
    });
  }
  return port;
}

const program = new Command('kafka-dev').description('the background Kafka broker for development');
program
  .command('start')
  .description('start the broker in the background (no-op when running)')
  .action(() => start(portFromEnvironment()));
program.command('stop').description('stop the broker (SIGTERM, SIGKILL after 30 s)').action(stop);

try {
  await program.parseAsync();
} catch (error) {
  console.error(`kafka: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
