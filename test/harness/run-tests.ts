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
    await Promise.allSettled([broker?.cleanup(), s3?.stop(), podman?.stop()]);
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
    return await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => relative(root, f))],
        { cwd: root, env, stdio: 'inherit' },
      );
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await stopServers();
  }
}

process.exitCode = await main();
