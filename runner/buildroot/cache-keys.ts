/**
 * Names of cached buildroot layers. A key changes exactly when the content would: base images
 * by the bootstrap settings, dependency layers by the base, the dist and the install plan.
 */
import { createHash } from 'node:crypto';
import type { InstallPlan } from './install-plan.ts';
import { INSTALL_RECIPE_VERSION } from './install-script.ts';
import { sourcesFingerprint, type PackageSources } from './package-sources.ts';
import type { BuildrootBase, BuildrootDist, DistBootstrap } from './types.ts';

/** Bump when base images are made differently (other mmdebstrap options). */
const BASE_RECIPE_VERSION = 1;

const DEFAULT_VARIANT = 'minbase';
const DEFAULT_COMPONENTS: readonly string[] = ['main'];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The bootstrap settings with defaults applied, in a fixed key order (hash input). */
export function normalisedBootstrap(bootstrap: DistBootstrap): Required<DistBootstrap> {
  return {
    suite: bootstrap.suite,
    mirror: bootstrap.mirror.replace(/\/+$/, ''),
    variant: bootstrap.variant ?? DEFAULT_VARIANT,
    components: [...(bootstrap.components ?? DEFAULT_COMPONENTS)],
  };
}

/**
 * A valid image repository path component: lower case, digits and single separators.
 * `Bookworm_Backports` -> `bookworm_backports`, `el 9` -> `el-9`.
 */
export function imageNamePart(text: string): string {
  const part = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return part === '' ? 'dist' : part.slice(0, 60);
}

/**
 * `buildfleet/base-<suite>:<hash>`: keyed by the bootstrap settings only, so dists that
 * bootstrap the same way share one base image.
 */
export function baseImageTag(bootstrap: DistBootstrap): string {
  const settings = normalisedBootstrap(bootstrap);
  const hash = sha256(JSON.stringify({ recipe: BASE_RECIPE_VERSION, ...settings }));
  return `buildfleet/base-${imageNamePart(settings.suite)}:${hash.slice(0, 24)}`;
}

/**
 * The hash of one dependency layer: what it is built on and exactly what goes in, including the
 * package sources (each repository with its key's sha256) and our own packages chosen (name,
 * version, sha256): a new library version makes a new layer, an unchanged one finds the old.
 */
export function depsKey(dist: BuildrootDist, baseId: string, plan: InstallPlan, sources?: PackageSources): string {
  return sha256(
    JSON.stringify({
      recipe: INSTALL_RECIPE_VERSION,
      base: baseId,
      dist: dist.name,
      format: dist.format,
      relations: plan.relations,
      sources: sourcesFingerprint(sources),
    }),
  );
}

/** `buildfleet/deps-<dist>:<depsKey>`. */
export function depsImageTag(dist: BuildrootDist, baseId: string, plan: InstallPlan, sources?: PackageSources): string {
  return `buildfleet/deps-${imageNamePart(dist.name)}:${depsKey(dist, baseId, plan, sources)}`;
}

/** Directory name of a cached chroot tree: the bootstrap settings stand in for a base id. */
export function chrootTreeName(dist: BuildrootDist, plan: InstallPlan, sources?: PackageSources): string {
  const base = sha256(JSON.stringify({ recipe: BASE_RECIPE_VERSION, ...chrootBase(dist.base) }));
  return `${imageNamePart(dist.name)}-${depsKey(dist, base, plan, sources)}`;
}

/** A chroot tree's base in its key: the bootstrap settings (the chroot kind rejects image bases before this). */
function chrootBase(base: BuildrootBase): Record<string, unknown> {
  return base.kind === 'bootstrap' ? normalisedBootstrap(base) : { image: base.image };
}
