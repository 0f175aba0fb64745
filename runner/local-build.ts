import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../shared/log/index.ts';
import { BuildfleetError } from '../shared/errors/index.ts';
import { buildKeyOf, buildRequest, type LogChunk } from '../shared/messages/index.ts';
import { loadPackage } from '../shared/sources/index.ts';
import { createFsArtifactStore } from '../shared/storage/index.ts';
import { chooseBuildroot } from './buildroot/index.ts';
import { builderFor } from './builders/index.ts';
import { createDockerodeEngine } from './engine/index.ts';
import { runBuildJob } from './job/build-job.ts';
import { workingTreeSource } from './local-source.ts';

export interface LocalBuildOptions {
  packageDir: string;
  /** `<dist>.<arch>`; default: the package's first target. */
  target?: string;
  outDir: string;
  buildroot: 'auto' | 'container' | 'chroot' | 'host';
  engineSocket: string;
  cacheDir: string;
  logger: Logger;
  onLog: (lines: string[]) => void;
  signal: AbortSignal;
}

export interface LocalBuildResult {
  state: string;
  artifacts: Array<{ name: string; path: string; sha256: string; size: number }>;
  log: string;
  error?: { code: string; message: string };
}

/** `buildfleet local build`: one package, no cluster, through the runner's own build job. */
export async function localBuild(options: LocalBuildOptions): Promise<LocalBuildResult> {
  const packageDir = resolve(options.packageDir);
  const root = await sourcesRoot(packageDir);
  const project = relative(root, packageDir);
  const pkg = await loadPackage({ repoDir: root, packageDir: project });
  const target = pickTarget(pkg.targets, options.target, pkg.metadataFile);
  const scratch = await mkdtemp(join(tmpdir(), 'buildfleet-local-'));
  try {
    const store = await createFsArtifactStore({ root: join(scratch, 'store') });
    const buildroot = await chooseBuildroot({
      preferred: options.buildroot,
      engine: createDockerodeEngine({ socketPath: options.engineSocket }),
      cacheDir: join(options.cacheDir, 'buildroots'),
      logger: options.logger,
      signal: options.signal,
    });
    const request = buildRequest({
      buildId: randomUUID(),
      attempt: 1,
      buildKey: buildKeyOf(project, target),
      project,
      kind: pkg.kind,
      target: { dist: target.dist, arch: target.arch },
      runnerGroup: target.runnerGroup,
      source: { url: root, commit: '0'.repeat(40) },
      submitId: 'local',
      leaseMs: 60_000,
    });
    const outcome = await runBuildJob(
      request,
      {
        sources: workingTreeSource(root),
        store,
        buildroot,
        // The user builds on their own machine, by their own command: a kiwi build may run here.
        builderFor: (kind) => builderFor(kind, { kiwi: { allowHostBuilds: true } }),
        workDir: join(scratch, 'work'),
        limits: { memoryMb: 4096, pids: 4096, timeoutMinutes: 120 },
        logger: options.logger,
        publishPhase: async () => undefined,
        sendLog: async (chunk: LogChunk) => options.onLog(chunk.lines),
      },
      options.signal,
      () => ({ kind: 'cancel', reason: 'interrupted' }),
    );
    await mkdir(options.outDir, { recursive: true });
    const log = join(resolve(options.outDir), 'build.log');
    if (outcome.logKey) await copyOut(store, outcome.logKey, log);
    if (outcome.state !== 'succeeded') {
      return { state: outcome.state, artifacts: [], log, ...('error' in outcome ? { error: outcome.error } : {}) };
    }
    const artifacts = [];
    for (const artifact of outcome.artifacts) {
      const path = join(resolve(options.outDir), artifact.name);
      await copyOut(store, artifact.key, path);
      artifacts.push({ name: artifact.name, path, sha256: artifact.sha256, size: artifact.size });
    }
    return { state: outcome.state, artifacts, log };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function copyOut(
  store: Awaited<ReturnType<typeof createFsArtifactStore>>,
  key: string,
  path: string,
): Promise<void> {
  await pipeline(await store.getStream(key), createWriteStream(path));
}

/** The sources repo root: the nearest directory above the package that has `dists/`. */
async function sourcesRoot(packageDir: string): Promise<string> {
  for (let dir = dirname(packageDir); ; dir = dirname(dir)) {
    const found = await stat(join(dir, 'dists')).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (found) return dir;
    if (dirname(dir) === dir) {
      throw new BuildfleetError(
        'source-path-missing',
        `${packageDir} is not inside a sources repo (no dists/ above it)`,
      );
    }
  }
}

function pickTarget<T extends { dist: string; arch: string }>(
  targets: T[],
  wanted: string | undefined,
  file: string,
): T {
  if (wanted === undefined) {
    const first = targets[0];
    if (!first) throw new BuildfleetError('metadata-invalid', `${file}: field "targets" is empty`);
    return first;
  }
  const match = targets.find((t) => `${t.dist}.${t.arch}` === wanted);
  if (!match) {
    throw new BuildfleetError(
      'usage',
      `--target ${wanted}: ${file} declares ${targets.map((t) => `${t.dist}.${t.arch}`).join(', ')}`,
    );
  }
  return match;
}
