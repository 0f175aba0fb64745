/**
 * `buildfleet scheduler --config` as a process on real Kafka with a webhook secret: the push
 * webhook is served on its own listener (`scheduler.webhook`), and the metrics port serves
 * /metrics and /healthz but not the webhook.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { createLogger } from '../../shared/log/index.ts';
import { githubPing, sign } from '../fixtures/webhooks.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { testGitRepos, type TestGitRepos } from '../harness/git.ts';
import { useKafka } from '../harness/kafka.ts';
import { waitFor } from '../harness/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));
const SECRET = 'listener secret';
const { brokers } = await useKafka();

describe('the scheduler process serves the webhook on its own listener', { timeout: 180_000 }, () => {
  const prefix = `hook${randomUUID().slice(0, 8)}`;
  const logger = createLogger({ name: 'webhook-listener-test', level: 'silent' });
  const bus = createKafkaBus({ brokers, topicPrefix: prefix, logger, clientId: 'webhook-listener-test' });
  let repos: TestGitRepos;
  let output = '';
  let exited: Promise<unknown> = Promise.resolve();
  let kill = (): void => undefined;

  before(async () => {
    await bus.ensureTopics(testTopics(prefix));
    repos = await testGitRepos('buildfleet-hook-listener-');
    const sources = await repos.create('sources');
    await sources.commitFiles({ 'README.md': 'sources\n' });
    const work = await repos.tempDir('scheduler');
    const config = join(work, 'scheduler.yml');
    await writeFile(
      config,
      [
        `bus: { type: kafka, brokers: [${brokers.map((b) => `'${b}'`).join(', ')}], topicPrefix: ${prefix} }`,
        'log: { level: info }',
        'metrics: { enabled: true, host: 127.0.0.1, port: 0 }',
        'scheduler:',
        '  id: hook-listener',
        `  workDir: '${join(work, 'data')}'`,
        `  sources: { url: '${sources.url}', branch: main, pollIntervalMs: 600000 }`,
        '  webhook: { host: 127.0.0.1, port: 0 }',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [BIN, 'scheduler', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BUILDFLEET_WEBHOOK_SECRET: SECRET },
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((resolve) => child.once('exit', resolve));
    kill = () => void child.kill('SIGKILL');
    await waitFor(() => output.includes('scheduler: ready') || child.exitCode !== null, 'the scheduler', 120_000);
    assert.equal(child.exitCode, null, output);
  });
  after(async () => {
    kill();
    await exited;
    await bus.close();
    await repos.cleanup();
  });

  /** The `url` of the first log line with `msg`. */
  function urlLogged(msg: string): string {
    for (const line of output.split('\n')) {
      if (!line.includes(msg)) continue;
      const url = (JSON.parse(line) as { url?: unknown }).url;
      if (typeof url === 'string') return url;
    }
    throw new Error(`no "${msg}" line with a url in:\n${output}`);
  }

  it('answers a signed delivery on scheduler.webhook, and the metrics port does not serve it', async () => {
    const hook = urlLogged('scheduler: serving the push webhook');
    const metrics = urlLogged('scheduler: serving /metrics and /healthz');
    assert.notEqual(new URL(hook).port, new URL(metrics).port);
    const ping = sign(githubPing(), SECRET);
    const answer = await fetch(hook, { method: 'POST', headers: ping.headers, body: ping.body });
    assert.deepEqual([answer.status, await answer.json()], [200, { status: 'pong' }]);

    const onMetrics = await fetch(`${metrics}/hooks/git`, { method: 'POST', headers: ping.headers, body: ping.body });
    assert.equal(onMetrics.status, 404);
    assert.equal((await fetch(`${metrics}/healthz`)).status, 200);
  });
});
