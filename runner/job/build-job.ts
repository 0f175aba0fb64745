import { mkdir, readFile, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/log/index.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { BuildEvent, BuildRequest, BuildState, Durations, LogChunk } from '../../shared/messages/index.ts';
import {
  debianArchOf,
  loadDist,
  loadPackage,
  rpmBuildRequires,
  type DistSpec,
  type PackageSpec,
  type SourceRepo,
} from '../../shared/sources/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { buildrootDist } from '../buildroot/dist.ts';
import type { Buildroot, PreparedBuildroot, RunLimits } from '../buildroot/types.ts';
import type { Builder } from '../builders/index.ts';
import { rebuildText } from '../builders/rebuild-version.ts';
import type { EventDetails } from './events.ts';
import { GENERATED_HOST_DIRS, hostPathRedactor, type HostPath } from './host-paths.ts';
import { LogSink } from './log-sink.ts';
import { buildPrefix, uploadArtifact } from './artifacts.ts';
import { classifyFailure, type AbortCause, type JobOutcome } from './outcome.ts';
import { skippedBuildroot } from './skipped-buildroot.ts';
import { pinnedRelations } from '../buildroot/own-packages.ts';
import { gatherPackageSources, type GatheredSources } from './package-sources.ts';
import { gatherOwnRpms } from './rpm-sources.ts';

export interface BuildJobDeps {
  sources: SourceRepo;
  store: ArtifactStore;
  buildroot: Buildroot;
  builderFor: (kind: BuildRequest['kind']) => Builder;
  /** Parent of the per-build directories. */
  workDir: string;
  limits: { memoryMb: number; pids: number; timeoutMinutes: number };
  logger: Logger;
  /** Publishes a phase event (preparing, building, uploading). */
  publishPhase: (state: BuildState, details?: EventDetails) => Promise<void>;
  sendLog: (chunk: LogChunk) => Promise<void>;
  /**
   * Armored public key our own repositories are checked with in the dependency step.
   * @default each repository's own key.asc from the store (the collector publishes it beside the repository)
   */
  ownRepositoriesKey?: string;
  /**
   * Host directories besides the work directory that must not show in logs and error messages
   * (the cache). @default only the work directory and generated scratch directories
   */
  hostPaths?: readonly HostPath[];
}

/** Log uploads after a cancel must not use the (aborted) build signal; they get this long. */
const LOG_UPLOAD_TIMEOUT_MS = 60_000;

/**
 * One attempt of one build: checkout of exactly the requested commit, buildroot, build,
 * artifacts and log to the artifact store. Never throws: every way it can end is a JobOutcome.
 */
export async function runBuildJob(
  request: BuildRequest,
  deps: BuildJobDeps,
  signal: AbortSignal,
  abortCause: () => AbortCause | undefined,
): Promise<JobOutcome> {
  const dir = join(deps.workDir, `${request.buildId}-${request.attempt}`);
  const prefix = buildPrefix(request.buildId, request.attempt);
  const logKey = `${prefix}/build.log`;
  const durations: Durations = {};
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'out'), { recursive: true });
  const redact = hostPathRedactor([
    { path: dir, placeholder: '<build>' },
    { path: deps.workDir, placeholder: '<work>' },
    ...GENERATED_HOST_DIRS,
    ...(deps.hostPaths ?? []),
  ]);
  const log = new LogSink({
    redact,
    buildId: request.buildId,
    attempt: request.attempt,
    file: join(dir, 'build.log'),
    send: deps.sendLog,
    onError: (error) => deps.logger.warn({ err: error }, 'runner: log chunk not sent'),
  });
  let prepared: PreparedBuildroot | undefined;
  let ownSources: OwnSources | undefined;
  const timed = async <T>(phase: keyof Durations, step: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await step();
    } finally {
      durations[phase] = Date.now() - started;
    }
  };
  let outcome: JobOutcome;
  try {
    log.line(
      `buildfleet: build ${request.buildId} attempt ${request.attempt}: ${request.buildKey} at ${request.source.commit}`,
    );
    await deps.publishPhase('preparing');
    const repoDir = join(dir, 'repo');
    await timed('checkout', () =>
      deps.sources.checkout({ url: request.source.url, commit: request.source.commit, dest: repoDir, signal }),
    );
    const pkg = await loadPackage({ repoDir, packageDir: request.project });
    const dist = await loadDist({ repoDir, name: request.target.dist });
    checkTarget(request, pkg);
    const builder = deps.builderFor(pkg.kind);
    const usesBuildroot = builder.needsBuildroot !== false;
    const buildroot = await timed('buildroot', async () => {
      if (!usesBuildroot) {
        log.line(`buildfleet: no buildroot: a ${pkg.kind} build does not run in one`);
        return skippedBuildroot(deps.buildroot.kind);
      }
      // rpm: BuildRequires our own rpms provide come from our repository, not from apt.
      const ownRpms = await ownRpmSources(deps, dist, pkg, request, join(dir, 'deps-sources'), signal);
      const buildDeps = await builder.buildDeps(pkg, request.target, { ownSatisfied: ownRpms?.satisfied ?? [] });
      log.line(
        `buildfleet: ${deps.buildroot.kind} buildroot for ${dist.name}, build dependencies: ${buildDeps.join(', ') || '(none)'}`,
      );
      ownSources =
        ownRpms ??
        (await ownPackageSources(deps, dist, repoDir, buildDeps, request, join(dir, 'deps-sources'), signal));
      for (const pkg of ownSources?.chosen ?? []) {
        log.line(
          `buildfleet: from buildfleet's repository ${pkg.repoKey}: ${pkg.name} ${pkg.version}` +
            (pkg.buildId === undefined ? '' : ` (build ${pkg.buildId})`),
        );
      }
      return deps.buildroot.prepare({
        dist: buildrootDist(dist),
        buildDeps: [...buildDeps, ...(ownSources?.pinned ?? [])],
        sources: ownSources?.sources,
        neededBy: request.project,
        signal,
        onLine: (line) => log.line(line),
      });
    });
    prepared = buildroot;
    if (usesBuildroot) {
      log.line(
        `buildfleet: buildroot ${buildroot.environment} (base ${buildroot.report.base}, deps ${buildroot.report.deps})`,
      );
    }

    await deps.publishPhase('building');
    const outDir = join(dir, 'out');
    await timed('build', () =>
      builder.build({
        pkg,
        buildroot,
        srcDir: pkg.dir,
        outDir,
        signal,
        onLine: (line) => log.line(line),
        limits: limitsFor(pkg, deps.limits),
        build: { buildId: request.buildId, commit: request.source.commit },
        target: request.target,
        dist,
        ...(request.rebuild
          ? {
              rebuild: {
                number: request.rebuild.number,
                text: rebuildText(builtAgainstOf(ownSources), request.rebuild.because),
              },
            }
          : {}),
      }),
    );
    const files = await builder.collect(outDir);
    if (files.length === 0) throw new BuildfleetError('build-failed', `${pkg.kind} build produced no artifacts`);

    await deps.publishPhase('uploading');
    const artifacts = await timed('upload', async () => {
      const uploaded = [];
      for (const file of files) uploaded.push(await uploadArtifact(deps.store, prefix, file, signal));
      return uploaded;
    });
    log.line(`buildfleet: succeeded with ${artifacts.map((a) => a.name).join(', ')}`);
    outcome = { state: 'succeeded', artifacts, durations, logKey, builtAgainst: builtAgainstOf(ownSources) };
  } catch (error) {
    const classified = classifyFailure(error, signal.aborted ? abortCause() : undefined);
    const failed = { ...classified, error: { ...classified.error, message: redact(classified.error.message) } };
    log.line(`buildfleet: ${failed.state}: [${failed.error.code}] ${failed.error.message}`);
    outcome =
      failed.state === 'handed-back'
        ? { state: 'handed-back', durations }
        : { ...failed, durations, state: failed.state };
  } finally {
    await prepared
      ?.release()
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'runner: buildroot release failed'));
  }
  try {
    await log.close();
    await deps.store.put(logKey, createReadStream(join(dir, 'build.log')), {
      contentType: 'text/plain; charset=utf-8',
      signal: AbortSignal.timeout(LOG_UPLOAD_TIMEOUT_MS),
    });
    if (outcome.state !== 'succeeded') outcome = { ...outcome, logKey };
  } catch (error) {
    deps.logger.error({ err: error, logKey }, 'runner: build log not uploaded');
    if (outcome.state === 'succeeded') {
      outcome = {
        state: 'failed',
        error: { code: 'upload-failed', message: 'the build log could not be stored', retriable: true },
        durations,
      };
    }
  }
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  return outcome;
}

/** What the dependency step installs beyond the base: its sources and which of our packages (builtAgainst). */
interface OwnSources {
  sources: GatheredSources['sources'];
  chosen: { name: string; version: string; repoKey: string; buildId?: string }[];
  /** Relations added to the build dependencies (deb: exact versions of our packages). */
  pinned: string[];
  /** rpm: BuildRequires our rpms satisfy. */
  satisfied?: string[];
}

/** rpm dists: our rpms the spec's BuildRequires need (the host kind installs nothing). */
async function ownRpmSources(
  deps: BuildJobDeps,
  dist: DistSpec,
  pkg: PackageSpec,
  request: BuildRequest,
  dir: string,
  signal: AbortSignal,
): Promise<OwnSources | undefined> {
  if (dist.format !== 'rpm' || deps.buildroot.kind === 'host' || pkg.files.spec === undefined) return undefined;
  const gathered = await gatherOwnRpms({
    store: deps.store,
    dist,
    requirements: rpmBuildRequires(await readFile(join(pkg.dir, pkg.files.spec), 'utf8')),
    arch: request.target.arch,
    dir,
    trustedKey: deps.ownRepositoriesKey,
    signal,
  });
  return { ...gathered, pinned: [] };
}

/** deb dists: the dist's repositories and our packages the build needs (the host kind installs nothing). */
async function ownPackageSources(
  deps: BuildJobDeps,
  dist: DistSpec,
  repoDir: string,
  buildDeps: readonly string[],
  request: BuildRequest,
  dir: string,
  signal: AbortSignal,
): Promise<OwnSources | undefined> {
  if (dist.format !== 'deb' || deps.buildroot.kind === 'host') return undefined;
  const gathered = await gatherPackageSources({
    store: deps.store,
    dist,
    repoDir,
    relations: [...dist.packages, ...buildDeps],
    arch: debianArchOf(request.target.arch),
    dir,
    trustedKey: deps.ownRepositoriesKey,
    signal,
  });
  return { ...gathered, pinned: pinnedRelations(gathered.chosen) };
}

function checkTarget(request: BuildRequest, pkg: PackageSpec): void {
  const declared = pkg.targets.some((t) => t.dist === request.target.dist && t.arch === request.target.arch);
  if (!declared) {
    throw new BuildfleetError(
      'metadata-invalid',
      `${pkg.metadataFile}: field "targets" does not list ${request.target.dist}.${request.target.arch}`,
      { context: { file: pkg.metadataFile, field: 'targets' } },
    );
  }
}

function limitsFor(pkg: PackageSpec, defaults: BuildJobDeps['limits']): RunLimits {
  return {
    memoryMb: pkg.build.memoryMb ?? defaults.memoryMb,
    pids: defaults.pids,
    timeoutMs: Math.round((pkg.build.timeoutMinutes ?? defaults.timeoutMinutes) * 60_000),
  };
}

export type { BuildEvent };

/** Our own packages the dependency step installed, as build.event `builtAgainst` lists them. */
function builtAgainstOf(
  sources: { chosen: ReadonlyArray<{ name: string; version: string; buildId?: string }> } | undefined,
) {
  return (sources?.chosen ?? []).map((pkg) => ({
    package: pkg.name,
    version: pkg.version,
    ...(pkg.buildId === undefined ? {} : { buildId: pkg.buildId }),
  }));
}
