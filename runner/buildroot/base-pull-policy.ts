/**
 * Pure parts of pulling an image dist's base (`base.image`): when to pull, which credentials,
 * how references are normalised. The I/O is in ./base-image.ts.
 */
import type { RegistryAuth } from '../engine/index.ts';

export interface BaseImagePullPolicy {
  /**
   * When an image named by a tag is pulled although the engine has it: `missing` never,
   * `always` before every prepare, `max-age` when this runner process has not pulled it within
   * `maxAgeMs` (so once after every runner start, then at most once per period). An image
   * pinned by digest (`name@sha256:...`) cannot change and is pulled only when missing.
   * @default 'max-age'
   */
  tags: 'missing' | 'always' | 'max-age';
  /** @default 3600000 (1 h) */
  maxAgeMs: number;
}

export const DEFAULT_BASE_IMAGE_PULL: BaseImagePullPolicy = { tags: 'max-age', maxAgeMs: 3_600_000 };

/** `name` -> `name:latest`; a tag or a digest is kept. */
export function normalisedReference(image: string): string {
  if (isDigestReference(image)) return image;
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? image : `${image}:latest`;
}

function isDigestReference(image: string): boolean {
  return image.includes('@');
}

/** `registry.example.com:5000/a/b:1` -> `registry.example.com:5000`; undefined for Docker Hub names. */
export function registryOf(image: string): string | undefined {
  if (!image.includes('/')) return undefined;
  const first = image.slice(0, image.indexOf('/'));
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** The credentials for the image's registry among those the runner has, if any. */
export function authFor(image: string, auths: readonly RegistryAuth[]): RegistryAuth | undefined {
  const registry = registryOf(image);
  return registry === undefined ? undefined : auths.find((auth) => auth.serverAddress === registry);
}

export type PullDecision = { pull: false } | { pull: true; reason: 'missing' | 'refresh' };

/** Pure: whether to pull the base image now. `lastPulledAt`: when this process last pulled it (ms). */
export function pullDecision(input: {
  reference: string;
  present: boolean;
  lastPulledAt: number | undefined;
  now: number;
  policy: BaseImagePullPolicy;
}): PullDecision {
  if (!input.present) return { pull: true, reason: 'missing' };
  if (isDigestReference(input.reference)) return { pull: false };
  switch (input.policy.tags) {
    case 'missing':
      return { pull: false };
    case 'always':
      return { pull: true, reason: 'refresh' };
    case 'max-age': {
      const stale = input.lastPulledAt === undefined || input.now - input.lastPulledAt >= input.policy.maxAgeMs;
      return stale ? { pull: true, reason: 'refresh' } : { pull: false };
    }
    default: {
      const never: never = input.policy.tags;
      throw new Error(`unknown pull policy ${String(never)}`);
    }
  }
}

/** The local tag dependency layers are built FROM: one per image id, so a moved tag cannot change a build. */
export function pulledBaseTag(imageId: string): string {
  return `buildfleet/base-image:${imageId.replace(/^sha256:/, '')}`;
}
