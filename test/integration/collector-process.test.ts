/**
 * `buildfleet collector --config` as a real process: killed with SIGKILL after it accepted
 * successes but before it published them, and again while a new version was uploading, the
 * repository keeps serving its previous version, and the restarted collector publishes what was
 * accepted, once. SIGTERM stops it with exit 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { buildKeyOf, decoderFor, repoKeyOf, topicNames, type BuildEvent } from '../../shared/messages/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { readPointer } from '../../collector/publish/version-publisher.ts';
import { createRepoRequestHandler } from '../../shared/repos/http.ts';
import { createFsArtifactStore, listAll } from '../../shared/storage/index.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { testSigningKey } from '../harness/gpg.ts';
import { useKafka } from '../harness/kafka.ts';
import { buildNoarchRpm, dnfInstall } from '../harness/package-clients.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();
const bin = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));

describe('buildfleet collector --config (process)', { timeout: 300_000 }, () => {
  const children: ChildProcess[] = [];
  let work = '';
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('survives SIGKILL before and during a publish, and exits 0 on SIGTERM', async () => {
    work = await mkdtemp(join(tmpdir(), 'buildfleet-collector-process-'));
    const prefix = `cp${randomUUID().slice(0, 8)}`;
    const topics = topicNames(prefix);
    const storeRoot = join(work, 'store');
    const store = await createFsArtifactStore({ root: storeRoot });
    const bus = createKafkaBus({
      brokers,
      clientId: 'collector-process-test',
      topicPrefix: prefix,
      logger: pino({ level: 'silent' }),
    });
    const server = createServer((req, res) => {
      void createRepoRequestHandler(store)(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    try {
      await bus.ensureTopics(testTopics(prefix));
      const events: BuildEvent[] = [];
      const watch = await bus.subscribe<BuildEvent>({
        name: 'collector-process-test',
        topics: [topics.events],
        decode: decoderFor('build.event'),
        handle: async (r) => void events.push(r.value),
      });
      await watch.ready;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const repos = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repos`;

      const start = async (
        name: string,
        coalesceMs: number,
      ): Promise<{ child: ChildProcess; output: () => string }> => {
        const config = join(work, `${name}.yml`);
        await writeFile(
          config,
          [
            `bus: { type: kafka, brokers: [${brokers.map((b) => `'${b}'`).join(', ')}], topicPrefix: ${prefix} }`,
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
        const bytes = await readFile(rpm);
        const key = `builds/${buildId}/attempt-1/${basename(rpm)}`;
        await store.put(key, bytes);
        const project = 'projects/kill/pkg';
        const target = { dist: 'rpm-bookworm', arch: 'x86_64' };
        const event: BuildEvent = {
          v: 1,
          type: 'build.event',
          buildId,
          attempt: 1,
          buildKey: buildKeyOf(project, target),
          project,
          target,
          repoKey: repoKeyOf(project, 'rpm-bookworm'),
          state: 'succeeded',
          at: new Date().toISOString(),
          source: { service: 'runner', instance: 'test' },
          artifacts: [
            {
              name: basename(rpm),
              kind: 'rpm',
              size: bytes.length,
              sha256: createHash('sha256').update(bytes).digest('hex'),
              key,
            },
          ],
        };
        await bus.publish(topics.events, { key: event.repoKey, value: event });
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
      await watch.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await bus.close();
      await store.close();
    }
  });
});
