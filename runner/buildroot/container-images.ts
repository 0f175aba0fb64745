/**
 * The two cached image layers of the container kind: a base image imported from an mmdebstrap
 * tarball (no registry needed), and a dependency image built FROM it with the install script.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import type { ContainerEngine, ImageInfo } from '../engine/index.ts';
import type { InstallPlan } from './install-plan.ts';
import { INSTALL_FILES, runInstallStep, writeInstallFiles } from './install-script.ts';
import { bootstrapRootfs } from './mmdebstrap.ts';
import { STEP_DIR, type PackageSources } from './package-sources.ts';
import { describeBase, type BuildrootDist, type BuildrootLineListener, type DistBootstrap } from './types.ts';

/** Labels on our images, so they can be listed and pruned. */
const IMAGE_LABELS = { layer: 'org.buildfleet.layer', dist: 'org.buildfleet.dist' } as const;

interface LayerOptions {
  engine: ContainerEngine;
  /** Scratch space for the tarball or the build context; removed afterwards. */
  tmpDir: string;
  tag: string;
  signal?: AbortSignal;
  onLine?: BuildrootLineListener;
}

/** mmdebstrap -> rootfs.tar -> image import, tagged `tag`. */
export async function makeBaseImage(options: LayerOptions & { bootstrap: DistBootstrap }): Promise<ImageInfo> {
  await mkdir(options.tmpDir, { recursive: true });
  const dir = await mkdtemp(join(options.tmpDir, 'base-'));
  try {
    const tarball = join(dir, 'rootfs.tar');
    await bootstrapRootfs({
      bootstrap: options.bootstrap,
      target: tarball,
      signal: options.signal,
      onLine: options.onLine,
    });
    return await options.engine.importImage({
      tar: createReadStream(tarball),
      tag: options.tag,
      signal: options.signal,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * FROM the base, run the install script with the host's network (the dependency step is the only
 * one with network, and the dist's repositories may be on the runner's 127.0.0.1); unresolvable
 * needs and unusable repositories fail with their names.
 */
export async function makeDepsImage(
  options: LayerOptions & {
    dist: BuildrootDist;
    baseTag: string;
    plan: InstallPlan;
    sources?: PackageSources | undefined;
    neededBy?: string | undefined;
  },
): Promise<ImageInfo> {
  await mkdir(options.tmpDir, { recursive: true });
  const dir = await mkdtemp(join(options.tmpDir, 'deps-'));
  try {
    await writeInstallFiles(dir, options.plan, options.sources);
    await writeFile(join(dir, 'Dockerfile'), dockerfile(options.baseTag));
    return await runInstallStep(options, (onLine) =>
      options.engine.buildImage({
        contextDir: dir,
        tag: options.tag,
        labels: { [IMAGE_LABELS.layer]: 'deps', [IMAGE_LABELS.dist]: options.dist.name },
        network: 'host',
        signal: options.signal,
        onLine,
      }),
    );
  } catch (error) {
    if (isBuildfleetError(error, 'build-failed')) {
      throw new BuildfleetError(
        'buildroot-failed',
        `installing build dependencies on ${describeBase(options.dist.base)}: ${error.message}`,
        {
          cause: error,
          context: { dist: options.dist.name, image: options.tag },
        },
      );
    }
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function dockerfile(baseTag: string): string {
  return [
    `FROM ${baseTag}`,
    `COPY ${INSTALL_FILES.script} ${INSTALL_FILES.relations} ${STEP_DIR}/`,
    `COPY ${INSTALL_FILES.sources} ${STEP_DIR}/${INSTALL_FILES.sources}`,
    `RUN sh ${STEP_DIR}/${INSTALL_FILES.script} && rm -rf ${STEP_DIR}`,
    '',
  ].join('\n');
}
