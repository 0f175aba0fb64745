/**
 * The noop kind (benchmarks and tests): its metadata (never inferred, any dist, the noop
 * section's defaults and bounds) and its builder (deterministic file, abort at once, time limit).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { BuildKinds } from '../../shared/messages/index.ts';
import { loadPackage, type PackageSpec } from '../../shared/sources/index.ts';
import { decideKind } from '../../shared/sources/metadata/package-files.ts';
import {
  artifactKindOf,
  builderFor,
  isBuilderKind,
  noopArtifactBytes,
  noopArtifactName,
} from '../../runner/builders/index.ts';
import { skippedBuildroot } from '../../runner/job/skipped-buildroot.ts';
import { freshTrees, suiteTempDir } from '../harness/temp-files.ts';

const DEB_DIST =
  'format: deb\nbase:\n  bootstrap: { tool: mmdebstrap, suite: bookworm, mirror: http://deb.debian.org/debian }\n';
const IMAGE_RPM_DIST = 'format: rpm\nbase: { image: localhost/rpm-builder:1 }\narches: [x86_64]\n';
const NO_FILES = { debianControl: false, dscs: [], specs: [], kiwiDescriptions: [], dockerfile: false };
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

describe('noop metadata', () => {
  const repoWith = freshTrees(suiteTempDir('buildfleet-noop-meta-'), {
    'dists/bookworm.yml': DEB_DIST,
    'dists/rpmimg.yml': IMAGE_RPM_DIST,
  });

  async function load(files: Record<string, string>): Promise<PackageSpec> {
    return loadPackage({ repoDir: await repoWith(files), packageDir: 'projects/bench/n1' });
  }

  async function loadError(yaml: string, extra: Record<string, string> = {}): Promise<string> {
    try {
      await load({ 'projects/bench/n1/buildfleet.yml': yaml, ...extra });
    } catch (error) {
      assert.ok(isBuildfleetError(error, 'metadata-invalid'), String(error));
      return error.message;
    }
    assert.fail('expected metadata-invalid');
  }

  it('is a build kind of the messages', () => {
    assert.ok((BuildKinds as readonly string[]).includes('noop'));
  });

  it('loads kind noop with no build file, default ms and bytes, on dists of any format and base', async () => {
    const spec = await load({
      'projects/bench/n1/buildfleet.yml':
        'kind: noop\ntargets:\n  - { dist: bookworm, arch: x86_64 }\n  - { dist: rpmimg, arch: x86_64 }\n',
    });
    assert.equal(spec.kind, 'noop');
    assert.equal(spec.kindInferred, false);
    // The graph names default to: provides its name, needs nothing.
    assert.deepEqual(spec.noop, { ms: 100, bytes: 64, logLines: 0, provides: ['n1'], needs: [] });
    assert.deepEqual(spec.files, { main: 'buildfleet.yml' });
    assert.deepEqual(
      spec.targets.map((t) => t.dist),
      ['bookworm', 'rpmimg'],
    );
  });

  it('takes the noop section, and a declared noop wins over build files', async () => {
    const spec = await load({
      'projects/bench/n1/buildfleet.yml':
        'kind: noop\ntargets: [{ dist: bookworm, arch: x86_64 }]\n' +
        'noop: { ms: 0, bytes: 1048576, logLines: 3, fail: oops, provides: [libn1-dev], needs: [libx-dev] }\n',
      'projects/bench/n1/Dockerfile': 'FROM scratch\n',
    });
    assert.deepEqual(spec.noop, {
      ms: 0,
      bytes: 1048576,
      logLines: 3,
      fail: 'oops',
      provides: ['libn1-dev'],
      needs: ['libx-dev'],
    });
    assert.equal(spec.kind, 'noop');
  });

  it('rejects noop values out of bounds, the section on other kinds, and dists or arches that do not exist', async () => {
    const targets = 'targets: [{ dist: bookworm, arch: x86_64 }]\n';
    assert.match(await loadError(`kind: noop\n${targets}noop: { bytes: 1048577 }\n`), /noop\.bytes/);
    assert.match(await loadError(`kind: noop\n${targets}noop: { bytes: 0 }\n`), /noop\.bytes/);
    assert.match(await loadError(`kind: noop\n${targets}noop: { ms: -1 }\n`), /noop\.ms/);
    assert.match(await loadError(`kind: noop\n${targets}noop: { size: 3 }\n`), /unknown key "noop.size"/);
    assert.match(
      await loadError(`kind: deb\n${targets}noop: { ms: 5 }\n`, { 'projects/bench/n1/debian/control': 'Source: n1\n' }),
      /field "noop" is for kind noop only; this package is deb/,
    );
    assert.match(
      await loadError('kind: noop\ntargets: [{ dist: trixie, arch: x86_64 }]\n'),
      /dist "trixie" is not defined/,
    );
    assert.match(await loadError('kind: noop\ntargets: [{ dist: rpmimg, arch: aarch64 }]\n'), /does not list/);
  });

  it('is never inferred', async () => {
    assert.deepEqual(decideKind('noop', NO_FILES, 'p'), { kind: 'noop', inferred: false });
    const decision = decideKind(undefined, NO_FILES, 'projects/bench/n1');
    assert.ok('problem' in decision && /cannot be inferred/.test(decision.problem) && !/noop/.test(decision.problem));
    assert.match(await loadError('targets: [{ dist: bookworm, arch: x86_64 }]\n'), /cannot be inferred/);
  });
});

describe('noop builder', () => {
  const dir = suiteTempDir('buildfleet-noop-build-');
  let count = 0;
  type Noop = { ms: number; bytes: number; logLines?: number; fail?: string };
  const pkg = (noop: Noop) => ({ name: 'n1', noop: { logLines: 0, ...noop } }) as unknown as PackageSpec;

  async function run(options: {
    noop: Noop;
    signal?: AbortSignal;
    timeoutMs?: number;
    buildId?: string;
  }): Promise<{ outDir: string; lines: string[] }> {
    const outDir = join(dir.path, `out-${++count}`);
    await mkdir(outDir);
    const lines: string[] = [];
    await builderFor('noop').build({
      pkg: pkg(options.noop),
      srcDir: dir.path,
      outDir,
      signal: options.signal ?? new AbortController().signal,
      onLine: (line) => lines.push(line),
      ...(options.timeoutMs === undefined ? {} : { limits: { timeoutMs: options.timeoutMs } }),
      build: { buildId: options.buildId ?? 'b-1', commit: COMMIT },
    });
    return { outDir, lines };
  }

  it('writes logLines lines first, and with fail ends build-failed with the message and no file', async () => {
    const lines: string[] = [];
    const outDir = join(dir.path, 'out-fail');
    await mkdir(outDir);
    await assert.rejects(
      builderFor('noop').build({
        pkg: pkg({ ms: 0, bytes: 1, logLines: 3, fail: 'make failed' }),
        srcDir: dir.path,
        outDir,
        signal: new AbortController().signal,
        onLine: (line) => lines.push(line),
        build: { buildId: 'b-f', commit: COMMIT },
      }),
      (error: unknown) =>
        isBuildfleetError(error, 'build-failed') && /noop build failed: make failed/.test(error.message),
    );
    assert.deepEqual(lines.slice(0, 3), ['noop: line 1', 'noop: line 2', 'noop: line 3']);
    assert.deepEqual(await readdir(outDir), []);
  });

  it('is a builder kind that needs no buildroot and no build dependencies', async () => {
    const builder = builderFor('noop');
    assert.equal(builder.kind, 'noop');
    assert.equal(builder.needsBuildroot, false);
    assert.equal(builderFor('deb').needsBuildroot, undefined);
    assert.ok(isBuilderKind('noop'));
    assert.deepEqual(await builder.buildDeps(pkg({ ms: 0, bytes: 1 }), { dist: 'x', arch: 'x86_64' }), []);
  });

  it('names the file after the package and the commit; its kind is other', () => {
    assert.equal(noopArtifactName('n1', COMMIT), 'n1_0123456789ab.noop');
    assert.equal(artifactKindOf('n1_0123456789ab.noop'), 'other');
  });

  it('makes the same bytes for the same build and commit, others for another build', () => {
    const a = noopArtifactBytes({ buildId: 'b-1', commit: COMMIT }, 1000);
    assert.equal(a.length, 1000);
    assert.deepEqual(a, noopArtifactBytes({ buildId: 'b-1', commit: COMMIT }, 1000));
    assert.notDeepEqual(a, noopArtifactBytes({ buildId: 'b-2', commit: COMMIT }, 1000));
    assert.deepEqual(noopArtifactBytes({ buildId: 'b-1', commit: COMMIT }, 7), a.subarray(0, 7));
  });

  it('waits ms, then writes one file of `bytes` bytes that collect() finds', async () => {
    const started = Date.now();
    const { outDir, lines } = await run({ noop: { ms: 150, bytes: 100 } });
    assert.ok(Date.now() - started >= 145, 'waited');
    assert.deepEqual(await readdir(outDir), ['n1_0123456789ab.noop']);
    const bytes = await readFile(join(outDir, 'n1_0123456789ab.noop'));
    assert.deepEqual(bytes, noopArtifactBytes({ buildId: 'b-1', commit: COMMIT }, 100));
    const collected = await builderFor('noop').collect(outDir);
    assert.deepEqual(
      collected.map((c) => [c.name, c.kind]),
      [['n1_0123456789ab.noop', 'other']],
    );
    assert.ok(lines.some((l) => /waiting 150 ms/.test(l)));
  });

  it('stops waiting at once when aborted, writing nothing', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancel')), 50);
    await assert.rejects(run({ noop: { ms: 60_000, bytes: 10 }, signal: controller.signal }), (error: unknown) =>
      isBuildfleetError(error, 'aborted'),
    );
    assert.ok(Date.now() - started < 2000, 'ended at once');
  });

  it('ends with exec-timeout when the wait is longer than the time limit', async () => {
    await assert.rejects(run({ noop: { ms: 60_000, bytes: 10 }, timeoutMs: 50 }), (error: unknown) =>
      isBuildfleetError(error, 'exec-timeout'),
    );
  });

  // A context that names no build no longer compiles (NoopBuildContext requires `build`).
  it('the buildroot of a build without one runs nothing', async () => {
    await assert.rejects(
      skippedBuildroot('container').run({ cmd: ['true'], workdir: dir.path, outDir: dir.path }),
      (error: unknown) => isBuildfleetError(error, 'internal'),
    );
  });
});
