/**
 * chooseBuildroot against what this machine has (podman, mmdebstrap, unshare), and the host
 * kind, which only an explicit choice gives.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { chooseBuildroot, HOST_WARNING, type BuildrootDist } from '../../runner/buildroot/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { usePodman } from '../harness/podman.ts';

const { socketPath } = await usePodman();
const logger = createLogger({ name: 'buildroot-test', level: 'silent' });
const dist: BuildrootDist = {
  name: 'bookworm',
  format: 'deb',
  base: { kind: 'bootstrap', suite: 'bookworm', mirror: 'http://deb.debian.org/debian' },
};

describe('chooseBuildroot', () => {
  let dir: string;
  let deadEngine: ReturnType<typeof createDockerodeEngine>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildroot-choose-'));
    deadEngine = createDockerodeEngine({ socketPath: join(dir, 'nobody.sock') });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('auto picks the container kind when the engine answers', async () => {
    const engine = createDockerodeEngine({ socketPath });
    const buildroot = await chooseBuildroot({ engine, cacheDir: join(dir, 'cache'), logger });
    assert.equal(buildroot.kind, 'container');
  });

  it('auto falls back to chroot when the engine does not answer (mmdebstrap and unshare work here)', async () => {
    assert.equal((await chooseBuildroot({ engine: deadEngine, cacheDir: join(dir, 'cache'), logger })).kind, 'chroot');
    assert.equal((await chooseBuildroot({ cacheDir: join(dir, 'cache'), logger })).kind, 'chroot');
  });

  it('fails an explicit container choice without an engine', async () => {
    await assert.rejects(
      chooseBuildroot({ preferred: 'container', engine: deadEngine, cacheDir: join(dir, 'cache'), logger }),
      (error) => isBuildfleetError(error, 'engine-unavailable'),
    );
  });

  it('gives the host kind only when asked, and it warns that nothing is isolated', async () => {
    const logged = new PassThrough();
    const lines: string[] = [];
    logged.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const hostLogger = createLogger({ name: 'buildroot-test', destination: logged });
    const buildroot = await chooseBuildroot({ preferred: 'host', cacheDir: join(dir, 'cache'), logger: hostLogger });
    assert.equal(buildroot.kind, 'host');
    const buildLines: string[] = [];
    const prepared = await buildroot.prepare({ dist, buildDeps: ['libpopt-dev'], onLine: (l) => buildLines.push(l) });
    const workdir = join(dir, 'host-src');
    const outDir = join(dir, 'host-out');
    await mkdir(workdir);
    await mkdir(outDir);
    const result = await prepared.run({
      cmd: ['sh', '-c', 'pwd; echo made > "$BUILDFLEET_OUT/file"; exit 4'],
      workdir,
      outDir,
      onLine: (line) => buildLines.push(line),
    });
    assert.equal(result.exitCode, 4);
    assert.ok(buildLines.includes(workdir));
    assert.ok(buildLines.some((line) => line.includes(HOST_WARNING)));
    assert.equal(await readFile(join(outDir, 'file'), 'utf8'), 'made\n');
    assert.deepEqual(prepared.pathsFor({ workdir, outDir }), { src: workdir, out: outDir });
    assert.ok(
      lines.some((line) => (JSON.parse(line) as { level?: string }).level === 'warn' && line.includes(HOST_WARNING)),
    );
  });
});
