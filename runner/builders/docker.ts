/**
 * The docker builder: the package's Dockerfile built through the container engine (dockerode:
 * Docker, or Podman's Docker API), FROM the dist's base image, tagged
 * `<registry>/<name>:<commit>` and `:<version>`, pushed to the runner group's registry, and
 * reported as `docker-image` artifacts carrying the pushed manifest digest. It prepares no
 * buildroot: the engine is its buildroot. docs/builders.md.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError, isBuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import type { DistSpec } from '../../shared/sources/index.ts';
import { baseImageTag } from '../buildroot/cache-keys.ts';
import { makeBaseImage } from '../buildroot/container-images.ts';
import { compileLimits } from '../buildroot/run-settings.ts';
import { ensureImage, KeyedLock, type ContainerEngine, type ImageInfo } from '../engine/index.ts';
import { FAILURE_TAIL_LINES } from './build-step.ts';
import {
  DOCKER_RECORD_FILE,
  dockerArtifactsOf,
  planDockerBuild,
  type DockerBuildPlan,
  type DockerPushRecord,
} from './docker-plan.ts';
import type { DockerRegistry } from './docker-registry.ts';
import { LineTail } from './line-tail.ts';
import type { Builder, CollectedArtifact, DockerBuildContext } from './types.ts';

export interface DockerBuilderOptions {
  /** The engine images are built in and pushed from. */
  engine: ContainerEngine;
  /** The runner group's registry (runner.docker); see dockerRegistryFrom(). */
  registry: DockerRegistry;
  /** Scratch space for bootstrapping base images. */
  tmpDir: string;
}

/** Two builds of one dist in this process make its base image once. */
const baseImageLocks = new KeyedLock();

/** The dist's base image: a bootstrapped one is made (and cached) like the container buildroot's. */
async function baseImageFor(
  options: DockerBuilderOptions,
  dist: DistSpec,
  ctx: DockerBuildContext,
): Promise<{ tag: string; made: boolean }> {
  if (dist.base.kind === 'image') return { tag: dist.base.image, made: false };
  const bootstrap = dist.base;
  const tag = baseImageTag(bootstrap);
  const { engine, tmpDir } = options;
  const ensured = await ensureImage(
    engine,
    baseImageLocks,
    tag,
    () => makeBaseImage({ engine, tmpDir, tag, bootstrap, signal: ctx.signal, onLine: ctx.onLine }),
    ctx.signal,
  );
  return { tag, made: !ensured.reused };
}

/** Builds the image tagged with the plan's first reference; a failing step is 'build-failed' with the step's error. */
async function buildImage(
  options: DockerBuilderOptions,
  ctx: DockerBuildContext,
  plan: DockerBuildPlan,
  signal: AbortSignal,
): Promise<ImageInfo> {
  const [tag] = plan.references;
  if (tag === undefined) throw new BuildfleetError('internal', 'docker build plan without references');
  const tail = new LineTail(FAILURE_TAIL_LINES);
  try {
    return await options.engine.buildImage({
      contextDir: ctx.srcDir,
      dockerfile: ctx.pkg.files.dockerfile ?? 'Dockerfile',
      tag,
      buildArgs: plan.buildArgs,
      labels: plan.labels,
      ...(plan.target === undefined ? {} : { target: plan.target }),
      // RUN steps install packages (apt-get from the dist's mirror), as in `docker build`.
      network: 'default',
      signal,
      onLine: (line, stream) => {
        tail.push(line);
        ctx.onLine(line, stream);
      },
    });
  } catch (error) {
    if (!isBuildfleetError(error, 'build-failed')) throw error;
    const lastLines = tail.snapshot();
    throw new BuildfleetError(
      'build-failed',
      `docker build of ${ctx.pkg.project} failed: ${error.message.trim()}\nlast lines of the log:\n${lastLines.join('\n')}`,
      { cause: error, context: { tool: 'docker build', project: ctx.pkg.project, lastLines } },
    );
  }
}

/** The build and push under the build's time limit: running into it is 'exec-timeout'. */
async function withTimeLimit<T>(ctx: DockerBuildContext, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { timeoutMs } = compileLimits(ctx.limits);
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await run(AbortSignal.any([ctx.signal, timeout]));
  } catch (error) {
    throwIfAborted(ctx.signal);
    if (timeout.aborted) {
      throw new BuildfleetError('exec-timeout', `docker build and push ran into the time limit of ${timeoutMs} ms`, {
        cause: error,
        context: { timeoutMs },
      });
    }
    throw error;
  }
}

export function createDockerBuilder(options: DockerBuilderOptions): Builder<DockerBuildContext> {
  const { engine, registry } = options;

  async function build(ctx: DockerBuildContext): Promise<void> {
    throwIfAborted(ctx.signal);
    const { build: which, target, dist } = ctx;
    const base = dist.base.kind === 'image' ? dist.base.image : '(bootstrapped)';
    // Checked before anything is made: a bad name or version fails at once.
    planDockerBuild({ pkg: ctx.pkg, target, commit: which.commit, registry: registry.registry, baseImage: base });
    await engine.ping(ctx.signal);
    const baseImage = await baseImageFor(options, dist, ctx);
    ctx.onLine(`docker: base image ${baseImage.tag} (${baseImage.made ? 'made' : 'reused'})`, 'stdout');
    const plan = planDockerBuild({
      pkg: ctx.pkg,
      target,
      commit: which.commit,
      registry: registry.registry,
      baseImage: baseImage.tag,
    });
    const tagged: string[] = [];
    try {
      const record = await withTimeLimit(ctx, async (signal) => {
        const image = await buildImage(options, ctx, plan, signal);
        tagged.push(...plan.references);
        for (const reference of plan.references.slice(1)) await engine.tagImage(image.id, reference, signal);
        const pushed = [];
        if (registry.local) {
          for (const reference of plan.references) {
            ctx.onLine(`docker: tagged ${reference} (no registry configured: not pushed)`, 'stdout');
            pushed.push({ reference, digest: image.id });
          }
        }
        for (const reference of registry.local ? [] : plan.references) {
          ctx.onLine(`docker: pushing ${reference}`, 'stdout');
          const result = await engine.pushImage({
            reference,
            insecure: registry.insecure,
            ...(registry.auth === undefined ? {} : { auth: registry.auth }),
            signal,
            onLine: ctx.onLine,
          });
          ctx.onLine(`docker: pushed ${reference}@${result.digest}`, 'stdout');
          pushed.push({ reference, digest: result.digest });
        }
        const done: DockerPushRecord = {
          pushed,
          ...(registry.local ? { local: true } : {}),
          imageId: image.id,
          size: image.sizeBytes,
          baseImage: baseImage.tag,
          target,
          commit: which.commit,
        };
        return done;
      });
      await writeFile(join(ctx.outDir, DOCKER_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    } finally {
      // The pushed image lives in the registry; the engine keeps only its layers as build cache.
      // Without a registry the tags are the result and stay.
      for (const reference of registry.local ? [] : tagged) {
        await engine
          .removeImage(reference)
          .catch((error: unknown) =>
            ctx.onLine(`docker: could not remove the local tag ${reference}: ${String(error)}`, 'stderr'),
          );
      }
    }
  }

  return {
    kind: 'docker',
    // The engine builds; no buildroot is prepared (the dist's base image is made by build()).
    needsBuildroot: false,
    buildDeps: async () => [],
    build,
    collect: collectDockerArtifacts,
  };
}

/** The docker-image artifacts of the record a build left in outDir; none when there is no record. */
async function collectDockerArtifacts(outDir: string): Promise<CollectedArtifact[]> {
  const path = join(outDir, DOCKER_RECORD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return dockerArtifactsOf(JSON.parse(text) as DockerPushRecord, path);
}
