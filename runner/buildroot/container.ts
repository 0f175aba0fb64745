/**
 * The container kind: builds run in a container of the dist's dependency image, without
 * network, with memory/pids/cpu/time limits, as the non-root `builder` user. Images are cached
 * in the engine's image store (see cache-keys.ts for the keys).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../shared/log/index.ts';
import { throwIfAborted } from '../../shared/errors/index.ts';
import { ensureImage, KeyedLock, type ContainerEngine, type RegistryAuth } from '../engine/index.ts';
import { basePulls, ensureBaseLayer, type BaseImagePullPolicy } from './base-image.ts';
import { depsImageTag } from './cache-keys.ts';
import { makeDepsImage } from './container-images.ts';
import { handOverDirectories } from './hand-over.ts';
import { planInstall } from './install-plan.ts';
import { buildEnvironment, compileLimits } from './run-settings.ts';
import { BUILD_PATHS, BUILDER_USER, type Buildroot, type PreparedBuildroot, type PrepareOptions } from './types.ts';

export interface ContainerBuildrootOptions {
  engine: ContainerEngine;
  logger: Logger;
  /** Scratch space for bootstrap tarballs and build contexts. @default <os tmpdir>/buildfleet-buildroot */
  tmpDir?: string;
  /** When image dists' base images are pulled again (docs/buildroots.md). @default DEFAULT_BASE_IMAGE_PULL */
  basePull?: Partial<BaseImagePullPolicy>;
  /** Credentials for pulling base images, picked by registry host. @default [] */
  registryAuths?: readonly RegistryAuth[];
}

/** Label on every build container, so leftovers of a crashed runner can be found. */
const BUILD_CONTAINER_LABEL = 'org.buildfleet.buildroot';

/** Process-wide: two prepares of one image in this process make it once, whichever Buildroot they use. */
const imageLocks = new KeyedLock();

export function createContainerBuildroot(options: ContainerBuildrootOptions): Buildroot {
  const { engine, logger } = options;
  const tmpDir = options.tmpDir ?? join(tmpdir(), 'buildfleet-buildroot');
  const pulls = basePulls(options);

  return {
    kind: 'container',
    async prepare(prepare: PrepareOptions): Promise<PreparedBuildroot> {
      const started = performance.now();
      const { dist, signal, onLine } = prepare;
      const plan = planInstall(dist, prepare.buildDeps ?? []);
      throwIfAborted(signal);
      await engine.ping(signal);

      const base = await ensureBaseLayer({ engine, lock: imageLocks, tmpDir, dist, pulls, signal, onLine });
      const baseTag = base.tag;
      if (!base.reused) logger.info({ image: baseTag, ms: base.durationMs }, `base image ${base.how}`);

      const { sources, neededBy } = prepare;
      const depsTag = depsImageTag(dist, base.image.id, plan, sources);
      const deps = await ensureImage(
        engine,
        imageLocks,
        depsTag,
        () => makeDepsImage({ engine, tmpDir, tag: depsTag, dist, baseTag, plan, sources, neededBy, signal, onLine }),
        signal,
      );
      if (!deps.reused) logger.info({ image: depsTag, ms: deps.durationMs }, 'dependency image made');

      const report = {
        totalMs: Math.round(performance.now() - started),
        base: base.reused ? ('reused' as const) : ('made' as const),
        deps: deps.reused ? ('reused' as const) : ('made' as const),
        baseMs: base.durationMs,
        depsMs: deps.durationMs,
        setupMs: 0,
      };
      // Run by id: a later re-tag (another runner remaking the layer) cannot change what this build uses.
      const imageId = deps.image.id;

      return {
        kind: 'container',
        environment: depsTag,
        pathsFor: () => ({ src: BUILD_PATHS.src, out: BUILD_PATHS.out }),
        report,
        async run(run) {
          const limits = compileLimits(run.limits);
          await handOverDirectories(run);
          const result = await engine.runContainer({
            image: imageId,
            cmd: run.cmd,
            user: run.user === 'root' ? '0:0' : `${BUILDER_USER.uid}:${BUILDER_USER.gid}`,
            workdir: BUILD_PATHS.src,
            mounts: [
              { hostPath: run.workdir, containerPath: BUILD_PATHS.src },
              { hostPath: run.outDir, containerPath: BUILD_PATHS.out },
            ],
            env: buildEnvironment(run),
            network: run.network === true ? 'default' : 'none',
            memoryBytes: limits.memoryBytes,
            pidsLimit: limits.pids,
            cpus: limits.cpus,
            timeoutMs: limits.timeoutMs,
            labels: { [BUILD_CONTAINER_LABEL]: dist.name },
            signal: run.signal,
            onLine: run.onLine,
            onStarted: run.onStarted,
          });
          return { exitCode: result.exitCode, durationMs: result.durationMs };
        },
        async release() {
          // Containers are removed after each run; the images stay cached.
        },
      };
    },
  };
}
