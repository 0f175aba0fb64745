import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import type { TopicReport } from '../../shared/bus/port.ts';
import { useKafka } from '../harness/kafka.ts';

const bin = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));
const run = promisify(execFile);

async function ensure(args: string[]): Promise<TopicReport> {
  const { stdout } = await run(process.execPath, [bin, 'topics', 'ensure', '--json', ...args], { timeout: 60_000 });
  return JSON.parse(stdout) as TopicReport;
}

// Top level: the harness's after() hook then belongs to the file, not to a hook or a test.
const { brokers } = await useKafka();

describe('buildfleet topics ensure (real Kafka)', { timeout: 180_000 }, () => {
  let dir = '';
  const prefix = `te${randomUUID().slice(0, 8)}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildfleet-topics-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function config(logsHours: number, partitions: number): Promise<string> {
    const file = join(dir, `topics-${logsHours}-${partitions}.yml`);
    await writeFile(
      file,
      [
        `bus: { topicPrefix: ${prefix} }`,
        'topics:',
        '  replication: 1',
        `  runnerGroups: [{ name: default, arches: [x86_64, aarch64], partitions: ${partitions} }]`,
        `  retentionHours: { logs: ${logsHours} }`,
        '',
      ].join('\n'),
    );
    return file;
  }

  it('creates every topic once, then reports them unchanged, then applies changes', async () => {
    const first = await ensure(['--config', await config(48, 2), '--brokers', brokers.join(',')]);
    assert.deepEqual(first.created.sort(), [
      `${prefix}.control`,
      `${prefix}.deadletter`,
      `${prefix}.events`,
      `${prefix}.info.requests`,
      `${prefix}.info.responses`,
      `${prefix}.logs`,
      `${prefix}.requests.default.aarch64`,
      `${prefix}.requests.default.x86_64`,
      `${prefix}.state`,
      `${prefix}.submit`,
    ]);

    // What the broker itself says, read with a client of its own.
    const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [`${prefix}.requests.default.x86_64`] });
      assert.equal(meta.topics[0]?.partitions.length, 2);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: kafkajs.ConfigResourceTypes.TOPIC, name: `${prefix}.state`, configNames: ['cleanup.policy'] },
          { type: kafkajs.ConfigResourceTypes.TOPIC, name: `${prefix}.logs`, configNames: ['retention.ms'] },
        ],
      });
      const value = (topic: string, key: string): string | undefined =>
        configs.resources.find((r) => r.resourceName === topic)?.configEntries.find((e) => e.configName === key)
          ?.configValue;
      assert.equal(value(`${prefix}.state`, 'cleanup.policy'), 'compact');
      assert.equal(value(`${prefix}.logs`, 'retention.ms'), String(48 * 3_600_000));
    } finally {
      await admin.disconnect();
    }

    const second = await ensure(['--config', await config(48, 2), '--brokers', brokers.join(',')]);
    assert.deepEqual(second.created, []);
    assert.deepEqual(second.changed, []);
    assert.equal(second.unchanged.length, 10);

    const third = await ensure(['--config', await config(24, 4), '--brokers', brokers.join(',')]);
    assert.deepEqual(third.changed.map((c) => `${c.topic}: ${c.change}`).sort(), [
      `${prefix}.logs: retention.ms ${48 * 3_600_000} -> ${24 * 3_600_000}`,
      `${prefix}.requests.default.aarch64: partitions 2 -> 4`,
      `${prefix}.requests.default.x86_64: partitions 2 -> 4`,
    ]);
  });

  it('fails with a clear error and exit code 1 when Kafka is not reachable', async () => {
    await assert.rejects(
      run(process.execPath, [bin, 'topics', 'ensure', '--brokers', '127.0.0.1:1'], { timeout: 60_000 }),
      (e: unknown) => {
        const failure = e as { code?: number; stderr?: string };
        return failure.code === 1 && /\[bus-unavailable\] Kafka not reachable/.test(failure.stderr ?? '');
      },
    );
  });

  it('rejects an invalid config naming the key', async () => {
    const file = join(dir, 'bad.yml');
    await writeFile(file, 'topics:\n  replication: zero\n');
    await assert.rejects(
      run(process.execPath, [bin, 'topics', 'ensure', '--config', file], { timeout: 60_000 }),
      (e: unknown) => {
        const failure = e as { code?: number; stderr?: string };
        return (
          failure.code === 1 &&
          /topics\.replication/.test(failure.stderr ?? '') &&
          /config-invalid/.test(failure.stderr ?? '')
        );
      },
    );
  });
});
