/**
 * `buildfleet collector --config` as a real process: killed with SIGKILL after it accepted
 * successes but before it published them, and again while a new version was uploading, the
 * repository keeps serving its previous version, and the restarted collector publishes what was
 * accepted, once. SIGTERM stops it with exit 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BuildEvent } from '../../shared/messages/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { readPointer } from '../../shared/repos/pointer.ts';
import { listAll } from '../../shared/storage/index.ts';
import { testEvent } from '../fixtures/messages.ts';
import { storedArtifact } from '../harness/cluster-fixtures.ts';
import { startTestCluster } from '../harness/cluster.ts';
import { kafkaBusYaml } from '../harness/service-config.ts';
import { testSigningKey } from '../harness/gpg.ts';
import { useKafka } from '../harness/kafka.ts';
import { buildNoarchRpm, dnfInstall } from '../harness/package-clients.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();
const bin = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));

describe('buildfleet collector --config (process)', { timeout: 300_000 }, () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('survives SIGKILL before and during a publish, and exits 0 on SIGTERM', async () => {
    const cluster = await startTestCluster({ brokers, name: 'collector-process' });
    const { prefix, store, events, work } = cluster;
    const storeRoot = join(work, 'store');
    try {
      const repos = await cluster.serveRepos();

      const start = async (
        name: string,
        coalesceMs: number,
      ): Promise<{ child: ChildProcess; output: () => string }> => {
        const config = join(work, `${name}.yml`);
        await writeFile(
          config,
          [
            kafkaBusYaml(brokers, prefix),
            `storage: { type: fs, root: '${storeRoot}' }`,
            'log: { level: info }',
            'metrics: { enabled: false }',
            `collector: { id: ${name}, publicUrl: '${repos}', coalesceMs: ${coalesceMs}, workDir: '${join(work, name)}' }`,
            '',
          ].join('\n'),
        );
        const child = spawn(process.execPath, [bin, 'collector', '--config', config], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, BUILDFLEET_SIGNING_KEY: (await testSigningKey()).armoredPrivateKey },
        });
        children.push(child);
        let output = '';
        child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
        await waitFor(() => output.includes('collector: ready'), `collector ${name} to be ready`, 60_000);
        return { child, output: () => output };
      };

      const succeed = async (name: string, payloadMb = 0): Promise<BuildEvent> => {
        const rpm = await buildNoarchRpm(work, name, '1.0', '1', payloadMb);
        const buildId = randomUUID();
        const file = { name: basename(rpm), bytes: await readFile(rpm), kind: 'rpm' as const };
        const event = testEvent('projects/kill/pkg', 'succeeded', {
          buildId,
          target: { dist: 'rpm-bookworm', arch: 'x86_64' },
          artifacts: [await storedArtifact(store, buildId, file)],
        });
        await cluster.bus.publish(cluster.topics.events, { key: event.repoKey, value: event });
        return event;
      };
      const publishedOf = (id: string): BuildEvent | undefined =>
        events.find((e) => e.buildId === id && e.state === 'published');

      // A first collector publishes a first version; a second, slow one accepts a success and is killed.
      const first = await start('first', 100);
      const one = await succeed('bf-one');
      await waitFor(() => publishedOf(one.buildId) !== undefined, 'bf-one published', 60_000);
      first.child.kill('SIGTERM');
      assert.equal(await new Promise((resolve) => first.child.once('exit', resolve)), 0, first.output().slice(-2000));

      const slow = await start('slow', 600_000);
      const two = await succeed('bf-two');
      await waitFor(
        async () => (await listAll(store, 'collector/pending/')).length > 0,
        'the success to be accepted (written as pending)',
        60_000,
      );
      slow.child.kill('SIGKILL');
      await new Promise((resolve) => slow.child.once('exit', resolve));
      const url = publishedOf(one.buildId)?.repo?.url ?? '';
      const stillOne = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name: 'bf-one' });
      assert.equal(stillOne.exitCode, 0, `the previous version still serves: ${stillOne.output}`);
      assert.equal(publishedOf(two.buildId), undefined);

      // The restarted collector publishes what was accepted before the kill.
      const again = await start('again', 100);
      await waitFor(() => publishedOf(two.buildId) !== undefined, 'bf-two published after the restart', 60_000);
      const installed = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name: 'bf-two' });
      assert.equal(installed.exitCode, 0, installed.output);
      assert.equal(
        events.filter((e) => e.buildId === two.buildId && e.state === 'published').length,
        1,
        'published once',
      );
      // buildfleet repos --json reads the same store and names the repository.
      const listed = JSON.parse(
        (await runCommand(process.execPath, [bin, 'repos', '--json', '--config', join(work, 'again.yml')])).stdout,
      ) as Array<{ key: string; format: string; dist: string; url: string; keyUrl: string }>;
      assert.deepEqual(
        listed.map((r) => [r.key, r.format, r.dist, r.url, r.keyUrl]),
        [['projects/kill/rpm-bookworm', 'rpm', 'rpm-bookworm', url, `${url}/key.asc`]],
      );
      again.child.kill('SIGTERM');
      assert.equal(await new Promise((resolve) => again.child.once('exit', resolve)), 0);

      // Killed in the middle of a publish: while the new version uploads, before the switch. A big
      // uncompressed package makes the upload take long enough to be caught in the act.
      const versionsDir = join(storeRoot, 'repos', 'projects/kill/rpm-bookworm', 'rpm', 'versions');
      const liveBefore = await readPointer(store, 'projects/kill/rpm-bookworm', 'rpm');
      const mid = await start('mid', 0);
      const three = await succeed('bf-three', 96);
      await waitFor(
        async () => (await readdir(versionsDir)).some((v) => v !== liveBefore?.version && v !== liveBefore?.previous),
        'a new version to start uploading',
        120_000,
        2,
      );
      mid.child.kill('SIGKILL');
      await new Promise((resolve) => mid.child.once('exit', resolve));
      assert.deepEqual(
        await readPointer(store, 'projects/kill/rpm-bookworm', 'rpm'),
        liveBefore,
        'killed before the switch',
      );
      const during = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name: 'bf-two' });
      assert.equal(during.exitCode, 0, `the previous version still serves: ${during.output}`);
      const last = await start('last', 100);
      await waitFor(() => publishedOf(three.buildId) !== undefined, 'bf-three published after the restart', 120_000);
      const bigInstall = await dnfInstall({ workDir: work, baseUrl: url, keyUrl: `${url}/key.asc`, name: 'bf-three' });
      assert.equal(bigInstall.exitCode, 0, bigInstall.output);
      last.child.kill('SIGTERM');
      assert.equal(await new Promise((resolve) => last.child.once('exit', resolve)), 0);
    } finally {
      await cluster.stop();
    }
  });
});
