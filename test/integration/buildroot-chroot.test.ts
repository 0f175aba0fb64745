/**
 * The chroot buildroot with real mmdebstrap (Debian mirror), unshare and chroot. The tree cache
 * is a temp dir, so every run covers the cold path (one mmdebstrap, ~30 s). The dist is an rpm
 * dist: Debian-based with Debian's rpm, as TOOLING.md describes.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import {
  createChrootBuildroot,
  type Buildroot,
  type BuildrootDist,
  type BuildrootRunOptions,
  type PreparedBuildroot,
} from '../../runner/buildroot/index.ts';
import { uniqueName } from '../harness/names.ts';

const MIRROR = 'http://deb.debian.org/debian';
const logger = createLogger({ name: 'buildroot-test', level: 'silent' });
const dist: BuildrootDist = {
  name: 'test-bookworm-rpm',
  format: 'rpm',
  base: { kind: 'bootstrap', suite: 'bookworm', mirror: MIRROR, variant: 'minbase' },
};

/** Where the build's cgroup limits live on the host (v1 per controller, or v2 unified). */
function limitFiles(cgroup: string): { memory: string; pids: string } {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return {
      memory: `/sys/fs/cgroup/buildfleet/${cgroup}/memory.max`,
      pids: `/sys/fs/cgroup/buildfleet/${cgroup}/pids.max`,
    };
  }
  return {
    memory: `/sys/fs/cgroup/memory/buildfleet/${cgroup}/memory.limit_in_bytes`,
    pids: `/sys/fs/cgroup/pids/buildfleet/${cgroup}/pids.max`,
  };
}

describe('chroot buildroot (mmdebstrap + unshare)', { timeout: 10 * 60_000 }, () => {
  let dir: string;
  let buildroot: Buildroot;
  let prepared: PreparedBuildroot;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildroot-chroot-'));
    buildroot = createChrootBuildroot({ cacheDir: join(dir, 'cache'), logger });
  });
  after(async () => {
    await prepared?.release();
    await rm(dir, { recursive: true, force: true });
  });

  async function runDirs(): Promise<{ workdir: string; outDir: string }> {
    const base = join(dir, uniqueName('run'));
    const dirs = { workdir: join(base, 'src'), outDir: join(base, 'out') };
    await mkdir(dirs.workdir, { recursive: true });
    await mkdir(dirs.outDir, { recursive: true });
    return dirs;
  }

  async function runCollecting(
    tree: PreparedBuildroot,
    cmd: string[],
    options: Partial<BuildrootRunOptions> = {},
  ): Promise<{ exitCode: number; lines: string[]; outDir: string }> {
    const lines: string[] = [];
    const dirs = await runDirs();
    const result = await tree.run({ cmd, ...dirs, ...options, onLine: (line) => lines.push(line) });
    return { exitCode: result.exitCode, lines, outDir: dirs.outDir };
  }

  it('bootstraps the tree once and gives every build its own overlay on it', async (t) => {
    const cold = await buildroot.prepare({ dist, buildDeps: ['make'] });
    assert.equal(cold.report.base, 'made');
    await cold.release();
    assert.equal(existsSync(cold.environment), false, 'release() removes the build copy');
    prepared = await buildroot.prepare({ dist, buildDeps: ['make'] });
    assert.equal(prepared.report.base, 'reused');
    assert.notEqual(prepared.environment, cold.environment);
    assert.ok(existsSync(join(prepared.environment, 'upper')), 'overlayfs works on this machine');
    t.diagnostic(
      `cold prepare ${cold.report.totalMs} ms (mmdebstrap ${cold.report.baseMs} ms); ` +
        `warm prepare ${prepared.report.totalMs} ms (overlay set up in ${prepared.report.setupMs} ms)`,
    );
  });

  it('runs as the builder user with rpmbuild and the build dependency, writing into /build/out', async () => {
    const result = await runCollecting(prepared, [
      'sh',
      '-c',
      'id -u; pwd; rpmbuild --version; make --version | head -n 1; echo built > /build/out/result.txt',
    ]);
    assert.equal(result.exitCode, 0, result.lines.join('\n'));
    assert.equal(result.lines[0], '1000');
    assert.equal(result.lines[1], '/build/src');
    assert.match(result.lines[2] ?? '', /^RPM version 4\./);
    assert.match(result.lines[3] ?? '', /^GNU Make/);
    const file = join(result.outDir, 'result.txt');
    assert.equal(await readFile(file, 'utf8'), 'built\n');
    assert.equal((await stat(file)).uid, 1000);
  });

  it('runs without network: only a loopback interface, no route to the mirror', async () => {
    const [address] = await lookup(new URL(MIRROR).hostname, { all: true, family: 4 });
    assert.ok(address !== undefined);
    const devices = await runCollecting(prepared, ['cat', '/proc/net/dev']);
    const interfaces = devices.lines
      .filter((line) => /^\s*[\w.-]+:/.test(line))
      .map((line) => line.split(':')[0]?.trim());
    assert.deepEqual(interfaces, ['lo']);
    const connect = ['timeout', '10', 'bash', '-c', `exec 3<>/dev/tcp/${address.address}/80`];
    assert.notEqual((await runCollecting(prepared, connect)).exitCode, 0);
    assert.notEqual((await runCollecting(prepared, ['getent', 'hosts', 'deb.debian.org'])).exitCode, 0);
    // With network (the host's), the same connect works: the check above can fail.
    const connected = await runCollecting(prepared, connect, { network: true });
    assert.equal(connected.exitCode, 0, connected.lines.join('\n'));
  });

  it('keeps a run in a cgroup with memory and pids limits and aborts it within 5 s', async () => {
    const abort = new AbortController();
    let limits: { memory: string; pids: string } | undefined;
    let cgroup = '';
    let abortedAt = 0;
    const dirs = await runDirs();
    const running = prepared.run({
      cmd: ['sleep', '60'],
      ...dirs,
      limits: { memoryMb: 200, pids: 50 },
      signal: abort.signal,
      onStarted: (name) => {
        cgroup = name;
        const files = limitFiles(name);
        // The command joins the cgroup as it starts; read once the limits are visible.
        void (async () => {
          for (let attempt = 0; attempt < 100 && limits === undefined; attempt++) {
            try {
              limits = {
                memory: (await readFile(files.memory, 'utf8')).trim(),
                pids: (await readFile(files.pids, 'utf8')).trim(),
              };
            } catch {
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
          abortedAt = performance.now();
          abort.abort(new Error('cancelled by test'));
        })();
      },
    });
    await assert.rejects(running, (error) => isBuildfleetError(error, 'aborted'));
    const stopMs = performance.now() - abortedAt;
    assert.ok(stopMs < 5_000, `stopping took ${Math.round(stopMs)} ms`);
    assert.deepEqual(limits, { memory: String(200 * 1024 * 1024), pids: '50' });
    assert.equal(existsSync(limitFiles(cgroup).pids), false, 'the cgroup is removed after the run');
  });

  it('stops a run at its time limit with exec-timeout', async () => {
    const dirs = await runDirs();
    await assert.rejects(prepared.run({ cmd: ['sleep', '60'], ...dirs, limits: { timeoutMs: 1_000 } }), (error) =>
      isBuildfleetError(error, 'exec-timeout'),
    );
  });

  it('keeps changes between runs of one build; other builds (overlay or copy) start from the cached tree', async (t) => {
    const write = await runCollecting(prepared, ['sh', '-c', 'echo changed > /etc/buildfleet-marker'], {
      user: 'root',
    });
    assert.equal(write.exitCode, 0, write.lines.join('\n'));
    assert.equal((await runCollecting(prepared, ['cat', '/etc/buildfleet-marker'])).exitCode, 0);
    const copying = createChrootBuildroot({ cacheDir: join(dir, 'cache'), treeView: 'copy', logger });
    const views = [
      { view: 'overlay', other: await buildroot.prepare({ dist, buildDeps: ['make'] }) },
      { view: 'copy', other: await copying.prepare({ dist, buildDeps: ['make'] }) },
    ];
    for (const { view, other } of views) {
      try {
        assert.equal(existsSync(join(other.environment, 'upper')), view === 'overlay');
        assert.equal(other.report.base, 'reused');
        assert.notEqual((await runCollecting(other, ['cat', '/etc/buildfleet-marker'])).exitCode, 0);
        const made = await runCollecting(other, ['sh', '-c', 'id -u > /build/out/uid; touch /home/builder/ok']);
        assert.equal(made.exitCode, 0, made.lines.join('\n'));
        assert.equal(await readFile(join(made.outDir, 'uid'), 'utf8'), '1000\n');
        t.diagnostic(`${view}: set up in ${other.report.setupMs} ms`);
      } finally {
        await other.release();
      }
    }
  });

  it('fails a prepare with unknown build dependencies, naming them', async () => {
    await assert.rejects(buildroot.prepare({ dist, buildDeps: ['make', 'no-such-package-bf'] }), (error) => {
      assert.ok(isBuildfleetError(error, 'dependency-unresolvable'), String(error));
      assert.equal(error.retriable, false);
      assert.deepEqual(error.context['unresolvable'], ['no-such-package-bf']);
      return true;
    });
  });
});
