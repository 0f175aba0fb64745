/**
 * The client commands of `buildfleet` as real processes over the HTTP API, against a small
 * stand-in of the info service (cli-client-api-stub.ts, the routes of docs/api.md the CLI
 * calls); and --help and usage errors. The Kafka path is in cli-client.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Artifact, BuildRecord, Target } from '../../shared/messages/index.ts';
import { cli, logText, sha256 } from '../harness/cli-process.ts';
import { startApiStub, type ApiStub } from './cli-client-api-stub.ts';

const X86: Target = { dist: 'bookworm', arch: 'x86_64' };

describe('buildfleet client commands over the HTTP API (a stand-in of the info service)', { timeout: 120_000 }, () => {
  let api: ApiStub;
  let work = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'buildfleet-cli-http-'));
    api = await startApiStub();
  });
  after(async () => {
    await api?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('build --wait follows the builds over server-sent events', async () => {
    const result = await cli([
      'build',
      'projects/web/hello',
      '--target',
      'bookworm.x86_64',
      '--wait',
      '--api',
      api.url,
    ]);
    assert.equal(result.exitCode, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    const [submit] = api.submits;
    assert.ok(submit);
    assert.deepEqual(submit.targets, [X86]);
    assert.equal(submit.project, 'projects/web/hello');
    assert.match(submit.requestedBy ?? '', /@cli$/);
    assert.match(result.stdout, /projects\/web\/hello@bookworm\.x86_64 +building/);
    assert.match(result.stdout, /all 1 build\(s\) reached published/);
  });

  it('build --wait exits 1 and prints the log tail when a build fails', async () => {
    const result = await cli(['build', 'projects/web/broken', '--wait', '--json', '--api', api.url]);
    assert.equal(result.exitCode, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.match(result.stderr, /\[build-failed\] make failed/);
    assert.match(result.stderr, /^log line 30$/m);
    const final = JSON.parse(result.stdout) as BuildRecord[];
    assert.deepEqual(
      final.map((r) => r.state),
      ['failed'],
    );
  });

  it('build --wait --timeout exits 2 naming what is still running', async () => {
    const result = await cli(['build', 'projects/web/stuck', '--wait', '--timeout', '0.05', '--api', api.url]);
    assert.equal(result.exitCode, 2, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.match(result.stdout, /waiting +attempt 1 {2}- {2}no runner for bookworm\.x86_64/);
    assert.match(
      result.stderr,
      /^buildfleet: \[wait-timeout\] submission [0-9a-f-]+ not done after 0\.05 minutes: projects\/web\/stuck@bookworm\.x86_64 waiting$/m,
    );
  });

  it('status, logs, repos --json and artifacts --out (sha256 checked)', async () => {
    const built = [...api.records.values()].find((r) => r.project === 'projects/web/hello');
    assert.ok(built);
    const status = await cli(['status', built.buildId, '--json', '--api', api.url]);
    assert.equal(status.exitCode, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as BuildRecord[])[0]?.state, 'published');
    const project = await cli(['status', 'projects/web/hello', '--api', api.url]);
    assert.match(project.stdout, /projects\/web\/hello@bookworm\.x86_64 {2}published/);
    const unknown = await cli(['status', 'projects/none/here', '--api', api.url]);
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /^buildfleet: \[not-found\] no build known of project projects\/none\/here/m);

    const logs = await cli(['logs', built.buildId, '--api', api.url]);
    assert.equal(logs.stdout, logText(30).trimEnd());
    const follow = await cli(['logs', built.buildId, '-f', '--api', api.url]);
    assert.equal(follow.exitCode, 0, follow.stderr);
    assert.equal(follow.stdout, logText(30).trimEnd());

    const repos = await cli(['repos', '--json', '--api', api.url]);
    assert.equal(repos.exitCode, 0, repos.stderr);
    assert.deepEqual(JSON.parse(repos.stdout), api.repos);

    const out = join(work, 'artifacts');
    const artifacts = await cli(['artifacts', built.buildId, '--out', out, '--json', '--api', api.url]);
    assert.equal(artifacts.exitCode, 0, artifacts.stderr);
    const listed = JSON.parse(artifacts.stdout) as Array<Artifact & { verified: boolean; path: string }>;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.verified, true);
    assert.equal(sha256(await readFile(join(out, built.artifacts[0]?.name ?? ''), 'utf8')), built.artifacts[0]?.sha256);

    api.corrupt = true;
    const bad = await cli(['artifacts', built.buildId, '--out', join(work, 'bad'), '--api', api.url]);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /^buildfleet: \[checksum-mismatch\] 1 of 1 artifact\(s\) not downloaded intact/m);
    api.corrupt = false;

    const cancel = await cli(['cancel', built.buildId, '--api', api.url]);
    assert.equal(cancel.exitCode, 0, cancel.stderr);
    assert.equal(api.cancels.length, 1);
    assert.equal(api.cancels[0]?.buildId, built.buildId);
    assert.match(api.cancels[0]?.reason ?? '', /^cancelled by .*@cli$/);
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
