/**
 * `npm test`: starts one Kafka broker, one S3 server and one Podman service for the whole run
 * (test files reach them through useKafka()/useS3()/usePodman(), which start their own when a
 * file runs alone), runs every test file with node's test runner, and stops the servers
 * whatever happens.
 *
 *   node --import tsx test/harness/run-tests.ts [file or directory ...]
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestBroker, TEST_BROKERS_ENV, type TestBroker } from './kafka.ts';
import { startTestPodman, testPodmanEnv, type TestPodman } from './podman.ts';
import { startTestS3, testS3Env, type StartedTestS3 } from './s3.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_DIRS = ['test/unit', 'test/integration', 'test/e2e'];

function testFiles(targets: string[]): string[] {
  const found: string[] = [];
  for (const target of targets.length > 0 ? targets : DEFAULT_DIRS) {
    const path = join(root, target);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      continue;
    }
    if (stat.isFile()) found.push(path);
    else
      for (const entry of readdirSync(path, { recursive: true, encoding: 'utf8' })) {
        if (entry.endsWith('.test.ts')) found.push(join(path, entry));
      }
  }
  return found.sort();
}

/**
 * Files that mostly wait for Podman, apt and compilers (buildroots, image builds, end-to-end
 * runs), and the rest: the two groups run side by side (BUILDFLEET_TEST_LANES, default 2; 1: one lane), each file
 * after file, so the Kafka-bound tests use the time the container-bound ones spend waiting.
 */
const CONTAINER_BOUND = /^test\/e2e\/|^test\/integration\/(buildroot|chroot|container|docker|kiwi|builders|image)/;

function lanesOf(files: string[], count: number): string[][] {
  if (count <= 1) return [files];
  const heavy = files.filter((f) => CONTAINER_BOUND.test(relative(root, f)));
  const rest = files.filter((f) => !CONTAINER_BOUND.test(relative(root, f)));
  return [heavy, rest].filter((lane) => lane.length > 0);
}

/** How a lane's `node --test` ended. */
interface LaneEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The spec reporter's `✖` lines (failed tests, and suites whose hooks failed, which `ℹ fail` does not count). */
  failures: string[];
}

/** At most this many `✖` lines are repeated at the end of a run. */
const FAILURES_SHOWN = 40;

/** One `node --test` over the files, file after file; with a lane number its lines are prefixed `[lane n]`. */
function runLane(files: string[], env: NodeJS.ProcessEnv, lane: number): Promise<LaneEnd> {
  return new Promise<LaneEnd>((resolve) => {
    const failures: string[] = [];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => relative(root, f))],
      { cwd: root, env, stdio: lane < 0 ? 'inherit' : ['ignore', 'pipe', 'pipe'] },
    );
    if (lane >= 0) {
      for (const stream of [child.stdout, child.stderr]) {
        let partial = '';
        stream?.on('data', (data: Buffer) => {
          const lines = (partial + data.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            process.stdout.write(`[lane ${lane + 1}] ${line}\n`);
            if (/^\s*✖/.test(line) && !failures.includes(line)) failures.push(line);
          }
        });
        stream?.on('end', () => partial && process.stdout.write(`[lane ${lane + 1}] ${partial}\n`));
      }
    }
    child.on('error', (error) => {
      process.stdout.write(`run-tests: lane ${lane + 1} could not run: ${error.message}\n`);
      resolve({ code: 1, signal: null, failures });
    });
    child.on('close', (code, signal) => resolve({ code, signal, failures }));
  });
}

async function main(): Promise<number> {
  const files = testFiles(process.argv.slice(2));
  if (files.length === 0) {
    process.stderr.write('run-tests: no test files found\n');
    return 1;
  }
  const needsServers = files.some((f) => !relative(root, f).startsWith('test/unit'));
  let broker: TestBroker | undefined;
  let s3: StartedTestS3 | undefined;
  let podman: TestPodman | undefined;
  const stopServers = async (): Promise<void> => {
    const stopped = await Promise.allSettled([broker?.cleanup(), s3?.stop(), podman?.stop()]);
    for (const [index, result] of stopped.entries())
      if (result.status === 'rejected')
        process.stdout.write(
          `run-tests: stopping ${['Kafka', 'S3', 'Podman'][index]} failed: ${String(result.reason)}\n`,
        );
  };
  const onSignal = (): void => void stopServers().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (needsServers) {
      const started = Date.now();
      [broker, s3, podman] = await Promise.all([startTestBroker(), startTestS3(), startTestPodman()]);
      env[TEST_BROKERS_ENV] = broker.brokers.join(',');
      Object.assign(env, testS3Env(s3), testPodmanEnv(podman));
      process.stdout.write(
        `run-tests: Kafka ${broker.brokers.join(',')}, S3 ${s3.endpoint} and Podman ${podman.socketPath} ` +
          `ready in ${Date.now() - started} ms\n`,
      );
    }
    const lanes = lanesOf(files, Number(process.env['BUILDFLEET_TEST_LANES'] ?? '2'));
    const ends = await Promise.all(lanes.map((lane, index) => runLane(lane, env, lanes.length > 1 ? index : -1)));
    // The last lines of a run say how each lane ended, so a failing exit code is never unexplained.
    ends.forEach((end, index) => {
      process.stdout.write(
        `run-tests: lane ${index + 1} (${lanes[index]?.length ?? 0} files) ended with ` +
          `${end.signal ? `signal ${end.signal}` : `exit code ${end.code}`}\n`,
      );
      for (const line of end.failures.slice(0, FAILURES_SHOWN)) process.stdout.write(`run-tests:   ${line.trim()}\n`);
    });
    return ends.some((end) => end.code !== 0 || end.signal !== null) ? 1 : 0;
  } finally {
    await stopServers();
  }
}

process.on('uncaughtException', (error) => {
  process.stdout.write(`run-tests: uncaught ${error.stack ?? String(error)}\n`);
  process.exitCode = 1;
});

const code = await main();
process.stdout.write(`run-tests: exit code ${code}\n`);
process.exitCode = code;
