/**
 * The two cached image layers of the container kind: a base image imported from an mmdebstrap
 * tarball (no registry needed), and a dependency image built FROM it with the install script.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import type { ContainerEngine, ImageInfo } from '../engine/index.ts';
import { normalisedBootstrap } from './cache-keys.ts';
import { unknownPackagesError, unknownPackagesIn, type InstallPlan } from './install-plan.ts';
import { INSTALL_FILES, writeInstallFiles } from './install-script.ts';
import { bootstrapRootfs } from './mmdebstrap.ts';
import type { BuildrootDist, BuildrootLineListener } from './types.ts';

/** Labels on our images, so they can be listed and pruned. */
export const IMAGE_LABELS = { layer: 'org.buildfleet.layer', dist: 'org.buildfleet.dist' } as const;

interface LayerOptions {
  engine: ContainerEngine;
  /** Scratch space for the tarball or the build context; removed afterwards. */
  tmpDir: string;
  tag: string;
  signal?: AbortSignal;
  onLine?: BuildrootLineListener;
}

/** mmdebstrap -> rootfs.tar -> image import, tagged `tag`. */
export async function makeBaseImage(options: LayerOptions & { dist: BuildrootDist }): Promise<ImageInfo> {
  await mkdir(options.tmpDir, { recursive: true });
  const dir = await mkdtemp(join(options.tmpDir, 'base-'));
  try {
    const tarball = join(dir, 'rootfs.tar');
    await bootstrapRootfs({
      bootstrap: options.dist.bootstrap,
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

/** FROM the base, run the install script; unknown packages fail with their names. */
export async function makeDepsImage(
  options: LayerOptions & { dist: BuildrootDist; baseTag: string; plan: InstallPlan },
): Promise<ImageInfo> {
  await mkdir(options.tmpDir, { recursive: true });
  const dir = await mkdtemp(join(options.tmpDir, 'deps-'));
  let unknown: string[] | undefined;
  try {
    await writeInstallFiles(dir, options.plan);
    await writeFile(join(dir, 'Dockerfile'), dockerfile(options.baseTag));
    return await options.engine.buildImage({
      contextDir: dir,
      tag: options.tag,
      labels: { [IMAGE_LABELS.layer]: 'deps', [IMAGE_LABELS.dist]: options.dist.name },
      network: 'default',
      signal: options.signal,
      onLine: (line, stream) => {
        unknown ??= unknownPackagesIn(line);
        options.onLine?.(line, stream);
      },
    });
  } catch (error) {
    if (unknown !== undefined) throw unknownPackagesError(options.dist, unknown, error);
    if (isBuildfleetError(error, 'build-failed')) {
      const { suite, mirror } = normalisedBootstrap(options.dist.bootstrap);
      throw new BuildfleetError(
        'buildroot-failed',
        `installing build dependencies from ${mirror} ${suite}: ${error.message}`,
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
  const files = Object.values(INSTALL_FILES).join(' ');
  return [
    `FROM ${baseTag}`,
    `COPY ${files} /tmp/buildfleet/`,
    `RUN sh /tmp/buildfleet/${INSTALL_FILES.script} && rm -rf /tmp/buildfleet`,
    '',
  ].join('\n');
}
