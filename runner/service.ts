/**
 * The runner assembled from its settings and the adapters it is given: used by
 * `buildfleet runner` (./main.ts), the all-in-one `buildfleet up` and the test harness.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { instanceIdOf, type RunningService, type ServiceDeps } from '../shared/lifecycle/index.ts';
import { createSourceMirror } from '../shared/sources/index.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';
import { chooseBuildroot } from './buildroot/index.ts';
import { builderFor, dockerRegistryFrom, LOCAL_IMAGES, type BuilderSettings } from './builders/index.ts';
import type { RunnerSettings } from './config.ts';
import { createDockerodeEngine, type ContainerEngine } from './engine/index.ts';
import { createRunner, type Runner } from './runner.ts';

export interface RunnerServiceDeps extends ServiceDeps {
  store: ArtifactStore;
  /** Where the registry credentials named by `runner.docker` are read, once; they are never logged. */
  env: NodeJS.ProcessEnv;
  /**
   * Talk to no container engine: no container buildroot, docker builds refused (the all-in-one
   * when no engine answers, tests on the host buildroot). @default the engine at runner.engineSocket
   */
  noEngine?: boolean;
  /** The armored public key of our own repositories; wins over runner.ownRepositoriesKeyFile. */
  ownRepositoriesKey?: string;
}

/** stop(): stops intake, then running builds finish or are handed back (runner.graceMs). */
export interface RunnerService extends RunningService {
  readonly runnerId: string;
  readonly runner: Runner;
}

/** Chooses the buildroot, creates the runner and starts it; resolves when it takes requests. */
export async function startRunnerService(settings: RunnerSettings, deps: RunnerServiceDeps): Promise<RunnerService> {
  const { logger, signal } = deps;
  const runnerId = instanceIdOf(settings.id);
  const workDir = resolve(settings.workDir);
  const cacheDir = resolve(settings.cacheDir);
  await mkdir(workDir, { recursive: true });
  const engine: ContainerEngine | undefined = deps.noEngine
    ? undefined
    : createDockerodeEngine({ socketPath: settings.engineSocket });
  const builderSettings: BuilderSettings = {
    ...dockerSettings(settings, engine, cacheDir, deps.env),
    kiwi: { allowHostBuilds: settings.allowHostBuilds },
  };
  if (settings.allowHostBuilds) {
    logger.warn(
      { setting: 'runner.allowHostBuilds' },
      'runner: host builds allowed: KIWI image builds run as root on this host, with its network',
    );
  }
  const pushAuth = builderSettings.docker?.registry.auth;
  const buildroot = await chooseBuildroot({
    preferred: settings.buildroot,
    ...(engine ? { engine } : {}),
    // Image dists' base images may live in the group's registry: its credentials serve pulls too.
    containerPulls: {
      registryAuths: pushAuth === undefined ? [] : [pushAuth],
      basePull: {
        tags: settings.baseImagePull.tags,
        maxAgeMs: Math.round(settings.baseImagePull.maxAgeMinutes * 60_000),
      },
    },
    cacheDir: `${cacheDir}/buildroots`,
    hostEnv: { inherited: deps.env, allow: settings.buildEnvAllow },
    logger,
    ...(signal ? { signal } : {}),
  });
  logger.info(
    { buildroot: buildroot.kind, dockerRegistry: settings.docker?.registry ?? null },
    'runner: buildroot chosen',
  );
  const ownRepositoriesKey =
    deps.ownRepositoriesKey ??
    (settings.ownRepositoriesKeyFile === undefined
      ? undefined
      : await readFile(resolve(settings.ownRepositoriesKeyFile), 'utf8'));
  const runner = createRunner({
    runnerId,
    group: settings.group,
    arches: settings.arches,
    slots: settings.slots,
    heartbeatMs: settings.heartbeatMs,
    graceMs: settings.graceMs,
    bus: deps.bus,
    logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    job: {
      sources: createSourceMirror({ cacheDir: `${cacheDir}/git`, logger }),
      store: deps.store,
      buildroot,
      builderFor: (kind) => builderFor(kind, builderSettings),
      workDir,
      hostPaths: [{ path: cacheDir, placeholder: '<cache>' }],
      limits: settings.limits,
      ...(ownRepositoriesKey === undefined ? {} : { ownRepositoriesKey }),
    },
  });
  try {
    await runner.start();
  } catch (error) {
    await runner.stop().catch(() => undefined);
    throw error;
  }
  return { runnerId, runner, stop: () => runner.stop() };
}

/**
 * What docker builds use: the engine and runner.docker's registry, or without runner.docker the
 * engine's own image store (LOCAL_IMAGES); without an engine, nothing (docker builds refused).
 */
function dockerSettings(
  settings: RunnerSettings,
  engine: ContainerEngine | undefined,
  cacheDir: string,
  env: NodeJS.ProcessEnv,
): BuilderSettings {
  if (engine === undefined) return {};
  const registry = settings.docker === undefined ? LOCAL_IMAGES : dockerRegistryFrom(settings.docker, env);
  return { docker: { engine, registry, tmpDir: `${cacheDir}/buildroots/tmp` } };
}
