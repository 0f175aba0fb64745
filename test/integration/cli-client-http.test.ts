/**
 * The client commands of `buildfleet` as real processes over the HTTP API of a real info
 * service, in a real cluster on Kafka (scheduler, runners, collector; noop packages from a git
 * sources repo); and --help and usage errors. The Kafka path is in cli-client.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Artifact, BuildRecord } from '../../shared/messages/index.ts';
import { cli, sha256 } from '../harness/cli-process.ts';
import { useKafka } from '../harness/kafka.ts';
import { startNoopCluster, type NoopCluster } from '../harness/noop-cluster.ts';

const { brokers } = await useKafka();
const X86 = '[{ dist: bookworm, arch: x86_64 }]';

describe('buildfleet client commands over the HTTP API of a real cluster', { timeout: 300_000 }, () => {
  let cluster: NoopCluster;
  let work = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'buildfleet-cli-http-'));
    cluster = await startNoopCluster({
      brokers,
      infoService: true,
      files: {
        'projects/web/hello/buildfleet.yml': `kind: noop\ntargets: ${X86}\nnoop: { ms: 300, logLines: 30 }\n`,
        'projects/web/broken/buildfleet.yml': `kind: noop\ntargets: ${X86}\nnoop: { ms: 10, logLines: 30, fail: make failed }\n`,
        'projects/web/stuck/buildfleet.yml':
          'kind: noop\ntargets: [{ dist: bookworm, arch: aarch64, runnerGroup: arm }]\n',
      },
    });
    await cluster.startRunner({ id: 'runner-http', slots: 2 });
  });
  after(async () => {
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('build --wait follows the build over server-sent events and exits 0 once it is published', async () => {
    const result = await cli([
      'build',
      'projects/web/hello',
      '--target',
      'bookworm.x86_64',
      '--wait',
      '--api',
      cluster.apiUrl,
    ]);
    assert.equal(result.exitCode, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.match(result.stdout, /projects\/web\/hello@bookworm\.x86_64 +building/);
    assert.match(result.stdout, /all 1 build\(s\) reached published/);
    const submitted = cluster.events.find((e) => e.project === 'projects/web/hello' && e.state === 'submitted');
    assert.match(submitted?.submitId ?? '', /^[0-9a-f-]{36}$/);
  });

  it('build --wait exits 1 and prints the error and the log tail when a build fails', async () => {
    const result = await cli(['build', 'projects/web/broken', '--wait', '--json', '--api', cluster.apiUrl]);
    assert.equal(result.exitCode, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.match(result.stderr, /\[build-failed\] noop build failed: make failed/);
    assert.match(result.stderr, /noop: line 30$/m);
    const final = JSON.parse(result.stdout) as BuildRecord[];
    assert.deepEqual(
      final.map((r) => r.state),
      ['failed'],
    );
  });

  it('build --wait --timeout exits 2 naming what is still waiting, and why; cancel ends it', async () => {
    const result = await cli(['build', 'projects/web/stuck', '--wait', '--timeout', '0.1', '--api', cluster.apiUrl]);
    assert.equal(result.exitCode, 2, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.match(result.stdout, /waiting +attempt 1 {2}- {2}no runner for arm\.aarch64/);
    assert.match(
      result.stderr,
      /^buildfleet: \[wait-timeout\] submission [0-9a-f-]+ not done after 0\.1 minutes: projects\/web\/stuck@bookworm\.aarch64 waiting$/m,
    );
    const [stuck] = JSON.parse(
      (await cli(['status', 'projects/web/stuck', '--json', '--api', cluster.apiUrl])).stdout,
    ) as BuildRecord[];
    assert.ok(stuck);
    const cancel = await cli(['cancel', stuck.buildId, '--api', cluster.apiUrl]);
    assert.equal(cancel.exitCode, 0, cancel.stderr);
    const cancelled = await cluster.reached(stuck.buildId, ['cancelled']);
    assert.match(cancelled.reason ?? '', /@cli/);
  });

  it('status, logs, repos --json and artifacts --out (sha256 checked, a corrupt file refused)', async () => {
    const status = await cli(['status', 'projects/web/hello', '--json', '--api', cluster.apiUrl]);
    assert.equal(status.exitCode, 0, status.stderr);
    const [built] = JSON.parse(status.stdout) as BuildRecord[];
    assert.ok(built);
    assert.equal(built.state, 'published');
    // The same answer over Kafka (info.query to the real info service).
    const overKafka = await cli([
      'status',
      'projects/web/hello',
      '--json',
      '--brokers',
      brokers.join(','),
      '--topic-prefix',
      cluster.prefix,
    ]);
    assert.equal(overKafka.exitCode, 0, overKafka.stderr);
    assert.equal((JSON.parse(overKafka.stdout) as BuildRecord[])[0]?.buildId, built.buildId);
    const byId = await cli(['status', built.buildId, '--api', cluster.apiUrl]);
    assert.match(byId.stdout, /projects\/web\/hello@bookworm\.x86_64 {2}published/);
    const unknown = await cli(['status', 'projects/none/here', '--api', cluster.apiUrl]);
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /^buildfleet: \[not-found\] no build known of project projects\/none\/here/m);

    const lines = Array.from({ length: 30 }, (_, i) => `noop: line ${i + 1}`).join('\n');
    const logs = await cli(['logs', built.buildId, '--api', cluster.apiUrl]);
    assert.equal(logs.exitCode, 0, logs.stderr);
    assert.ok(logs.stdout.includes(lines), logs.stdout);
    const follow = await cli(['logs', built.buildId, '-f', '--api', cluster.apiUrl]);
    assert.equal(follow.exitCode, 0, follow.stderr);
    assert.ok(follow.stdout.includes(lines), follow.stdout);

    const repos = await cli(['repos', '--json', '--api', cluster.apiUrl]);
    assert.equal(repos.exitCode, 0, repos.stderr);
    const listed = JSON.parse(repos.stdout) as Array<{ key: string; format: string }>;
    assert.ok(
      listed.some((r) => r.key === 'projects/web/bookworm' && r.format === 'images'),
      repos.stdout,
    );

    const out = join(work, 'artifacts');
    const artifacts = await cli(['artifacts', built.buildId, '--out', out, '--json', '--api', cluster.apiUrl]);
    assert.equal(artifacts.exitCode, 0, artifacts.stderr);
    const got = JSON.parse(artifacts.stdout) as Array<Artifact & { verified: boolean; path: string }>;
    assert.equal(got.length, built.artifacts.length);
    assert.ok(got.every((a) => a.verified));
    const [artifact] = built.artifacts;
    assert.ok(artifact);
    assert.equal(sha256(await readFile(join(out, artifact.name))), artifact.sha256);

    // A fault injected into the store: the CLI refuses the download.
    await writeFile(join(cluster.storeRoot, artifact.key), 'not what was built');
    const bad = await cli(['artifacts', built.buildId, '--out', join(work, 'bad'), '--api', cluster.apiUrl]);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /^buildfleet: \[checksum-mismatch\] 1 of 1 artifact\(s\) not downloaded intact/m);
  });

  it('says clearly when the API cannot be reached', async () => {
    const result = await cli(['status', 'projects/x/y', '--api', 'http://127.0.0.1:9']);
    assert.equal(result.exitCode, 1);
    assert.match(
      result.stderr,
      /^buildfleet: \[api-unavailable\] cannot reach the buildfleet API at http:\/\/127\.0\.0\.1:9/m,
    );
  });
});

describe('buildfleet client commands: help and usage errors', { timeout: 120_000 }, () => {
  it('--help of every client command exits 0; a bad option exits non-zero with a clear message', async () => {
    for (const command of ['build', 'status', 'watch', 'logs', 'cancel', 'artifacts', 'repos']) {
      const help = await cli([command, '--help']);
      assert.equal(help.exitCode, 0, `${command} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: buildfleet ${command}`, 'm'));
      assert.match(help.stdout, /--api <url>/);
    }
    const bad = await cli(['build', 'projects/x', '--no-such-option']);
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.stderr, /unknown option '--no-such-option'/);
    const badTarget = await cli(['build', 'projects/x', '--target', 'bookworm']);
    assert.equal(badTarget.exitCode, 1);
    assert.match(badTarget.stderr, /^buildfleet: \[usage\] --target must be <dist>\.<arch>/m);
    const badUntil = await cli(['build', 'projects/x', '--wait', '--until', 'queued']);
    assert.notEqual(badUntil.exitCode, 0);
    assert.match(badUntil.stderr, /--until <state>' argument 'queued' is invalid/);
  });
});
