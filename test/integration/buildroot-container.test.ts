/**
 * The container buildroot against real Podman (Docker API) and the real Debian mirror.
 * Cold path: the dist name is unique per run, so its dependency image is built every run (the
 * base image is keyed by the bootstrap settings only and is made once per machine: on a fresh
 * machine this file also covers making it, ~40 s). Warm path: the same prepare again.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { createContainerBuildroot, type BuildrootDist, type PreparedBuildroot } from '../../runner/buildroot/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { uniqueName } from '../harness/names.ts';
import { usePodman } from '../harness/podman.ts';
import { waitFor } from '../harness/wait.ts';

const MIRROR = 'http://deb.debian.org/debian';
const { socketPath } = await usePodman();
const engine = createDockerodeEngine({ socketPath });
const docker = new Docker({ socketPath });
const logger = createLogger({ name: 'buildroot-test', level: 'silent' });

const dist: BuildrootDist = {
  name: uniqueName('test-bookworm'),
  format: 'deb',
  base: { kind: 'bootstrap', suite: 'bookworm', mirror: MIRROR, variant: 'minbase' },
  packages: [],
};

const POPT_PROGRAM = `#include <popt.h>
#include <stdio.h>
int main(int argc, const char **argv) {
  char *name = "nobody";
  struct poptOption options[] = { { "name", 'n', POPT_ARG_STRING, &name, 0, "who", NULL }, POPT_TABLEEND };
  poptContext context = poptGetContext(NULL, argc, argv, options, 0);
  while (poptGetNextOpt(context) > 0) {}
  printf("hello %s from popt\\n", name);
  poptFreeContext(context);
  return 0;
}
`;

describe('container buildroot (podman)', { timeout: 15 * 60_000 }, () => {
  let dir: string;
  let prepared: PreparedBuildroot;
  const buildroot = () => createContainerBuildroot({ engine, logger, tmpDir: join(dir, 'tmp') });
  const madeTags = new Set<string>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildroot-container-'));
  });
  after(async () => {
    // A container of the last run may still be going away on a busy engine (409 "image is in use").
    for (const tag of madeTags) {
      const removed = (): Promise<boolean> =>
        engine.removeImage(tag).then(
          () => true,
          () => false,
        );
      await waitFor(removed, `image ${tag} removed`, 60_000, 1000);
    }
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh source dir and output dir for one run. */
  async function runDirs(label: string): Promise<{ workdir: string; outDir: string }> {
    const workdir = join(dir, label, 'src');
    const outDir = join(dir, label, 'out');
    await mkdir(workdir, { recursive: true });
    await mkdir(outDir, { recursive: true });
    return { workdir, outDir };
  }

  async function runCollecting(
    cmd: string[],
    options: { network?: boolean; limits?: { memoryMb?: number; pids?: number } } = {},
  ): Promise<{ exitCode: number; lines: string[] }> {
    const lines: string[] = [];
    const dirs = await runDirs(uniqueName('run'));
    const result = await prepared.run({ cmd, ...dirs, ...options, onLine: (line) => lines.push(line) });
    return { exitCode: result.exitCode, lines };
  }

  it('makes the dependency image once for two concurrent cold prepares, then reuses it in about a second', async (t) => {
    const options = { dist, buildDeps: ['libpopt-dev'] };
    const coldStarted = performance.now();
    const [first, second] = await Promise.all([buildroot().prepare(options), buildroot().prepare(options)]);
    const coldMs = Math.round(performance.now() - coldStarted);
    madeTags.add(first.environment);
    assert.equal(first.environment, second.environment);
    assert.match(first.environment, /^buildfleet\/deps-test-bookworm-[0-9a-f]{12}:[0-9a-f]{64}$/);
    assert.deepEqual([first.report.deps, second.report.deps].sort(), ['made', 'reused']);

    const warm = await buildroot().prepare(options);
    assert.equal(warm.environment, first.environment);
    assert.equal(warm.report.base, 'reused');
    assert.equal(warm.report.deps, 'reused');
    assert.ok(warm.report.totalMs < 2_000, `warm prepare took ${warm.report.totalMs} ms`);
    const made = first.report.deps === 'made' ? first : second;
    t.diagnostic(
      `cold prepare ${coldMs} ms (base ${made.report.base} in ${made.report.baseMs} ms, deps made in ` +
        `${made.report.depsMs} ms); warm prepare ${warm.report.totalMs} ms`,
    );
    prepared = warm;
  });

  it('compiles against a build dependency as the non-root builder and writes into /build/out', async () => {
    const { workdir, outDir } = await runDirs('compile');
    await writeFile(join(workdir, 'hello.c'), POPT_PROGRAM);
    const lines: string[] = [];
    const result = await prepared.run({
      cmd: [
        'sh',
        '-c',
        'id -u && gcc -o "$BUILDFLEET_OUT/hello" hello.c -lpopt && "$BUILDFLEET_OUT/hello" --name builder',
      ],
      workdir,
      outDir,
      onLine: (line) => lines.push(line),
    });
    assert.equal(result.exitCode, 0, lines.join('\n'));
    assert.equal(lines[0], '1000');
    assert.ok(lines.includes('hello builder from popt'), lines.join('\n'));
    const binary = await stat(join(outDir, 'hello'));
    assert.ok(binary.isFile() && binary.size > 0);
    assert.equal(binary.uid, 1000);
    assert.ok((await readFile(join(outDir, 'hello'))).subarray(1, 4).toString() === 'ELF');
  });

  it('runs without network: only a loopback interface, no route to the mirror', async () => {
    const [address] = await lookup(new URL(MIRROR).hostname, { all: true, family: 4 });
    assert.ok(address !== undefined);
    const connect = ['timeout', '10', 'bash', '-c', `exec 3<>/dev/tcp/${address.address}/80`];
    const netDevices = await runCollecting(['cat', '/proc/net/dev']);
    const interfaces = netDevices.lines
      .filter((line) => /^\s*[\w.-]+:/.test(line))
      .map((line) => line.split(':')[0]?.trim());
    assert.deepEqual(interfaces, ['lo']);
    const isolated = await runCollecting(connect);
    assert.notEqual(isolated.exitCode, 0, 'the TCP connect to the mirror succeeded without network');
    const resolving = await runCollecting(['getent', 'hosts', 'deb.debian.org']);
    assert.notEqual(resolving.exitCode, 0);
    // The same connect with network proves the check above can fail.
    const connected = await runCollecting(connect, { network: true });
    assert.equal(connected.exitCode, 0, connected.lines.join('\n'));
  });

  it('applies memory and pids limits, returns non-zero exit codes, and aborts within 5 s removing the container', async () => {
    const limited = await runCollecting(
      [
        'sh',
        '-c',
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; exit 7',
      ],
      { limits: { memoryMb: 300, pids: 77 } },
    );
    assert.equal(limited.exitCode, 7);
    assert.deepEqual(limited.lines, [String(300 * 1024 * 1024), '77']);

    const abort = new AbortController();
    const dirs = await runDirs('abort');
    let containerId: string | undefined;
    let hostConfig: Docker.ContainerInspectInfo['HostConfig'] | undefined;
    let abortedAt = 0;
    const running = prepared.run({
      cmd: ['sleep', '60'],
      ...dirs,
      limits: { memoryMb: 200, pids: 50, cpus: 0.5 },
      signal: abort.signal,
      onStarted: (id) => {
        containerId = id;
        void docker
          .getContainer(id)
          .inspect()
          .then((info) => (hostConfig = info.HostConfig))
          .finally(() => {
            abortedAt = performance.now();
            abort.abort(new Error('cancelled by test'));
          });
      },
    });
    await assert.rejects(running, (error) => isBuildfleetError(error, 'aborted'));
    const stopMs = performance.now() - abortedAt;
    assert.ok(stopMs < 5_000, `stopping took ${Math.round(stopMs)} ms`);
    assert.equal(hostConfig?.NetworkMode, 'none');
    assert.equal(hostConfig?.Memory, 200 * 1024 * 1024);
    assert.equal(hostConfig?.PidsLimit, 50);
    assert.equal(hostConfig?.NanoCpus, 500_000_000);
    assert.ok(containerId !== undefined);
    await assert.rejects(docker.getContainer(containerId).inspect(), (error: { statusCode?: number }) => {
      return error.statusCode === 404;
    });
  });

  it('stops a run at its time limit with exec-timeout', async () => {
    const dirs = await runDirs('timeout');
    const started = performance.now();
    await assert.rejects(prepared.run({ cmd: ['sleep', '60'], ...dirs, limits: { timeoutMs: 1_000 } }), (error) =>
      isBuildfleetError(error, 'exec-timeout'),
    );
    assert.ok(performance.now() - started < 6_000);
  });

  it('fails a prepare with unknown build dependencies, naming them, not retriable', async () => {
    await assert.rejects(
      buildroot().prepare({
        dist,
        buildDeps: ['libpopt-dev', 'no-such-package-bf', 'nothing-a | nothing-b'],
        neededBy: 'projects/x/app',
      }),
      (error) => {
        assert.ok(isBuildfleetError(error, 'dependency-unresolvable'), String(error));
        assert.equal(error.retriable, false);
        assert.deepEqual(error.context['unresolvable'], ['no-such-package-bf', 'nothing-a | nothing-b']);
        assert.match(
          error.message,
          /^dependency-unresolvable: no-such-package-bf, nothing-a \| nothing-b needed by projects\/x\/app /,
        );
        return true;
      },
    );
  });

  it('says engine-unavailable when nothing answers at the socket', async () => {
    const dead = createDockerodeEngine({ socketPath: join(dir, 'nobody-here.sock') });
    await assert.rejects(dead.ping(), (error) => isBuildfleetError(error, 'engine-unavailable') && error.retriable);
    const unreachable = createContainerBuildroot({ engine: dead, logger, tmpDir: join(dir, 'tmp') });
    await assert.rejects(unreachable.prepare({ dist }), (error) => isBuildfleetError(error, 'engine-unavailable'));
  });
});
