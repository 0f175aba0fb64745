/**
 * The base layer of the container kind. A bootstrap dist's base is made with mmdebstrap and
 * imported (container-images.ts); an image dist's (`base.image`) is pulled through the engine
 * when pullDecision says so. Its id is what the dependency layer's cache key is built on, so a
 * re-pushed tag gives a new dependency layer. The image must be Debian-based (apt-get inside):
 * checked once per image id and process, before a dependency layer is built on it.
 */
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import {
  ensureImage,
  type ContainerEngine,
  type ImageInfo,
  type KeyedLock,
  type RegistryAuth,
} from '../engine/index.ts';
import {
  authFor,
  DEFAULT_BASE_IMAGE_PULL,
  normalisedReference,
  pullDecision,
  pulledBaseTag,
  type BaseImagePullPolicy,
} from './base-pull-policy.ts';
import { baseImageTag } from './cache-keys.ts';
import { makeBaseImage } from './container-images.ts';
import type { BuildrootDist, BuildrootLineListener, DistImage } from './types.ts';

export type { BaseImagePullPolicy } from './base-pull-policy.ts';

/** The field of the dist file errors point at. */
const FIELD = 'base.image';

/** One container buildroot's pulling state: its policy and credentials, and what it pulled when. */
export interface BasePulls {
  policy: BaseImagePullPolicy;
  auths: readonly RegistryAuth[];
  /** Reference -> when this process last pulled it (ms since the epoch). */
  lastPulls: Map<string, number>;
  /** Image ids found to have apt-get (and tagged for FROM) in this process. */
  ready: Set<string>;
}

export function basePulls(options: {
  basePull?: Partial<BaseImagePullPolicy>;
  registryAuths?: readonly RegistryAuth[];
}): BasePulls {
  return {
    policy: { ...DEFAULT_BASE_IMAGE_PULL, ...options.basePull },
    auths: options.registryAuths ?? [],
    lastPulls: new Map(),
    ready: new Set(),
  };
}

export interface BaseLayer {
  /** What dependency layers are built FROM: a local tag, never contacting a registry. */
  tag: string;
  image: ImageInfo;
  /** False when this prepare made or pulled a new image. */
  reused: boolean;
  how: 'made' | 'pulled';
  durationMs: number;
}

export interface BaseLayerOptions {
  engine: ContainerEngine;
  lock: KeyedLock;
  /** Scratch space for bootstrap tarballs. */
  tmpDir: string;
  dist: BuildrootDist;
  pulls: BasePulls;
  signal?: AbortSignal;
  onLine?: BuildrootLineListener;
}

/** The dist's base image, made (bootstrap) or pulled (image) when needed. */
export async function ensureBaseLayer(options: BaseLayerOptions): Promise<BaseLayer> {
  const { engine, lock, tmpDir, dist, signal, onLine } = options;
  if (dist.base.kind === 'bootstrap') {
    const bootstrap = dist.base;
    const tag = baseImageTag(bootstrap);
    const made = await ensureImage(
      engine,
      lock,
      tag,
      () => makeBaseImage({ engine, tmpDir, tag, bootstrap, signal, onLine }),
      signal,
    );
    return { tag, image: made.image, reused: made.reused, how: 'made', durationMs: made.durationMs };
  }
  const started = performance.now();
  const pulled = await ensurePulled(options, dist.base);
  const tag = await readyForLayers(options, dist.base, pulled.image);
  return { tag, ...pulled, how: 'pulled', durationMs: Math.round(performance.now() - started) };
}

async function ensurePulled(
  options: BaseLayerOptions,
  base: DistImage,
): Promise<{ image: ImageInfo; reused: boolean }> {
  const { engine, pulls, signal, onLine } = options;
  const reference = normalisedReference(base.image);
  const look = async () => {
    const local = await engine.inspectImage(reference, signal);
    const decision = pullDecision({
      reference,
      present: local !== undefined,
      lastPulledAt: pulls.lastPulls.get(reference),
      now: Date.now(),
      policy: pulls.policy,
    });
    return { local, decision };
  };
  const first = await look();
  if (!first.decision.pull && first.local !== undefined) return { image: first.local, reused: true };
  // One pull per reference at a time; the others then find it fresh.
  return options.lock.run(`pull ${reference}`, async () => {
    const { local, decision } = await look();
    if (!decision.pull && local !== undefined) return { image: local, reused: true };
    onLine?.(`buildfleet: pulling base image ${reference} (${decision.pull ? decision.reason : 'missing'})`, 'stdout');
    try {
      const image = await engine.pullImage(reference, { auth: authFor(reference, pulls.auths), signal, onLine });
      pulls.lastPulls.set(reference, Date.now());
      return { image, reused: local?.id === image.id };
    } catch (error) {
      const failure = pullFailure(options.dist, reference, error);
      // A registry that is down for a moment must not stop builds on an image we have.
      if (local !== undefined && failure.code === 'buildroot-failed' && failure.retriable) {
        onLine?.(`buildfleet: ${failure.message}; building on the local copy ${local.id}`, 'stderr');
        return { image: local, reused: true };
      }
      throw failure;
    }
  });
}

/** Engine gone and abort stay as they are; any other pull failure names the dist file, the field and the image. */
function pullFailure(dist: BuildrootDist, reference: string, error: unknown): BuildfleetError {
  if (isBuildfleetError(error) && (error.code === 'aborted' || error.code === 'engine-unavailable')) return error;
  const retriable = isBuildfleetError(error) ? error.retriable : true;
  const message = error instanceof Error ? error.message : String(error);
  const file = distFileOf(dist);
  return new BuildfleetError('buildroot-failed', `${file}: field "${FIELD}": cannot ${message}`, {
    cause: error,
    retriable,
    context: { file, field: FIELD, image: reference },
  });
}

function distFileOf(dist: BuildrootDist): string {
  return `dists/${dist.name}.yml`;
}

/**
 * Checks that the image has apt-get (every buildroot is Debian-based) and gives it the local tag
 * dependency layers are built FROM; once per image id and process.
 */
async function readyForLayers(options: BaseLayerOptions, base: DistImage, image: ImageInfo): Promise<string> {
  const { engine, pulls, signal } = options;
  const tag = pulledBaseTag(image.id);
  if (pulls.ready.has(image.id)) return tag;
  const reference = normalisedReference(base.image);
  let why: string | undefined;
  try {
    // No shell: the image may not have one either. Exit 0 is the only proof.
    const result = await engine.runContainer({
      image: image.id,
      cmd: ['apt-get', '--version'],
      workdir: '/',
      network: 'none',
      memoryBytes: 256 * 1024 * 1024,
      pidsLimit: 64,
      timeoutMs: 60_000,
      signal,
    });
    if (result.exitCode !== 0) why = `apt-get --version exited with ${result.exitCode}`;
  } catch (error) {
    // The engine refusing to start a command that is not there is the usual answer.
    if (!isBuildfleetError(error, 'infra-failed')) throw error;
    why = error.message;
  }
  if (why !== undefined) {
    const file = distFileOf(options.dist);
    throw new BuildfleetError(
      'buildroot-failed',
      `${file}: field "${FIELD}": the image ${reference} has no usable apt-get; buildroots are Debian-based, ` +
        `also for rpm dists, so the image must have apt-get and dpkg (${why})`,
      { retriable: false, context: { file, field: FIELD, image: reference, imageId: image.id } },
    );
  }
  if ((await engine.inspectImage(tag, signal))?.id !== image.id) await engine.tagImage(image.id, tag, signal);
  pulls.ready.add(image.id);
  return tag;
}
