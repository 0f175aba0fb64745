/**
 * `buildfleet up` (what `npm start` runs) as a real process on the embedded bus with the
 * filesystem store: it makes the sources repository from the examples, builds and publishes
 * every example package, serves the API and the repositories, and apt-get / dnf install from
 * them. A commit to its sources repository rebuilds the changed package only; SIGTERM stops it
 * cleanly (exit 0).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRecord } from '../../shared/messages/index.ts';
import { cli } from '../harness/cli-process.ts';
import { assertHelloExamplesInstall } from '../harness/all-in-one.ts';
import { usePodman } from '../harness/podman.ts';
import { waitFor } from '../harness/wait.ts';

const podman = await usePodman();
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'buildfleet.js');
const DEB = 'projects/demo/hello-deb';
const RPM = 'projects/demo/hello-rpm';
const DOCKER = 'projects/images/hello-docker';
const KIWI = 'projects/images/hello-kiwi';

describe('buildfleet up: the all-in-one cluster on the embedded bus', { timeout: 900_000 }, () => {
  const logger = pino({ level: 'silent' });
  let work = '';
  let up: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let url = '';

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'buildfleet-up-'));
    up = spawn(
      process.execPath,
      [
        BIN,
        'up',
        '--data',
        join(work, 'data'),
        '--port',
        '0',
        '--buildroot',
        'container',
        '--engine-socket',
        podman.socketPath,
        '--poll-interval',
        '1000',
        '--slots',
        '2',
      ],
      // up saves its admin token for the CLI: in the test's directory, not the user's ~/.config
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, BUILDFLEET_CREDENTIALS_FILE: join(work, 'credentials.json') },
      },
    );
    up.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    up.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((resolve) => up.once('exit', (code) => resolve(code)));
    await waitFor(() => /serving (http:\/\/\S+)/.test(output) || up.exitCode !== null, 'up to serve', 120_000);
    url = /serving (http:\/\/\S+)/.exec(output)?.[1] ?? '';
    assert.ok(url, output);
  });

  after(async () => {
    if (up && up.exitCode === null && up.signalCode === null) {
      up.kill('SIGKILL');
      await exited;
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function status(project: string): Promise<BuildRecord[]> {
    const result = await cli(['status', project, '--json', '--api', url]);
    if (result.exitCode !== 0) return [];
    return JSON.parse(result.stdout) as BuildRecord[];
  }

  async function published(project: string, commit?: string): Promise<BuildRecord> {
    let found: BuildRecord | undefined;
    await waitFor(
      async () => {
        const [latest] = await status(project);
        if (latest && ['failed', 'cancelled', 'timed-out', 'unresolvable'].includes(latest.state)) {
          throw new Error(`${latest.buildKey} ${latest.state}: ${JSON.stringify(latest.error)}\n${output}`);
        }
        if (latest?.state !== 'published' || (commit !== undefined && latest.commit !== commit)) return false;
        found = latest;
        return true;
      },
      `${project} published${commit ? ` at ${commit}` : ''}`,
      600_000,
      1000,
    );
    assert.ok(found);
    return found;
  }

  it('builds and publishes the deb and rpm examples, and apt-get and dnf install them', async () => {
    const deb = await published(DEB);
    const rpm = await published(RPM);
    // The greet examples build against each other: the program against the library's published build.
    const lib = await published('projects/greet/libbfgreet');
    const app = await published('projects/greet/bfgreet');
    assert.deepEqual(
      (app.builtAgainst ?? []).filter((b) => b.package === 'libbfgreet-dev').map((b) => b.buildId),
      [lib.buildId],
    );
    for (const phase of ['checkout', 'buildroot', 'build', 'upload'] as const) {
      assert.equal(typeof deb.durations?.[phase], 'number', `duration of ${phase}`);
    }

    await assertHelloExamplesInstall({
      podmanSocket: podman.socketPath,
      sourcesDir: join(work, 'data', 'sources'),
      work,
      deb,
      rpm,
      apiUrl: url,
      logger,
    });
  });

  it('builds the image examples: the docker image into the engine (no registry), the KIWI image into the index', async () => {
    const docker = await published(DOCKER);
    const image = docker.artifacts.find((a) => a.kind === 'docker-image');
    assert.ok(image, JSON.stringify(docker.artifacts));
    assert.match(image.name, /^localhost\/hello-docker:/);
    const run = await runCommand(
      'podman',
      ['--remote', '--url', `unix://${podman.socketPath}`, 'run', '--rm', image.name],
      {
        timeoutMs: 120_000,
      },
    );
    assert.match(run.stdout, /hello from buildfleet on Debian 12/);
    const kiwi = await published(KIWI);
    assert.ok(
      kiwi.artifacts.some((a) => a.kind === 'image' && /\.tar\.xz$/.test(a.name)),
      JSON.stringify(kiwi.artifacts),
    );
    // Every example done: up prints what it built and the lines for apt and dnf.
    const aptLine = /signed-by=.* http:\/\/127\.0\.0\.1:\d+\/repos\/projects\/demo\/bookworm/;
    await waitFor(() => aptLine.test(output), `the summary with the apt line:\n${output}`, 60_000);
    assert.match(output, /projects\/images\/hello-kiwi@bookworm\.x86_64 {2}published/);
  });

  it('a commit to its sources repository rebuilds only the changed package; SIGTERM stops it (exit 0)', async () => {
    const sourcesDir = join(work, 'data', 'sources');
    const rpmBefore = (await status(RPM))[0]?.buildId;
    assert.ok(rpmBefore);
    const file = join(sourcesDir, DEB, 'hello-deb.c');
    await writeFile(file, `${await readFile(file, 'utf8')}\n/* changed */\n`);
    const git = (...args: string[]) =>
      runCommand('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], { cwd: sourcesDir });
    await git('commit', '--quiet', '--all', '--message', 'change hello-deb');
    const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
    await published(DEB, commit);
    assert.equal((await status(RPM))[0]?.buildId, rpmBefore, 'hello-rpm was not rebuilt');

    up.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-2000));
  });
});
