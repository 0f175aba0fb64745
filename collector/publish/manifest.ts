/** The manifest kept inside every repository version: what it holds, so the next version starts from it. */
import { versionPrefix, type RepoFormat } from '../../shared/repos/layout.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';

export const MANIFEST_FILE = 'buildfleet-manifest.json';
/** Build ids remembered (so a redelivered success is not added twice), newest kept. */
export const MANIFEST_BUILDS_KEPT = 10_000;

export interface Manifest {
  /** Build ids whose artifacts went into this repository (newest last). */
  builds: string[];
  /** Package (or image) files of the version, relative to its root. */
  files: string[];
}

/** The manifest of a version of the repository; an empty one when `version` is undefined (no version yet). */
export async function readManifest(
  store: ArtifactStore,
  repoKey: string,
  format: RepoFormat,
  version: string | undefined,
): Promise<Manifest> {
  if (version === undefined) return { builds: [], files: [] };
  const bytes = await store.get(`${versionPrefix(repoKey, format, version)}/${MANIFEST_FILE}`);
  return JSON.parse(bytes.toString('utf8')) as Manifest;
}

/** The next manifest: the builds of `previous` plus `added`, capped. */
export function nextManifest(previous: Manifest, added: readonly string[], files: string[]): Manifest {
  return { builds: [...previous.builds, ...added].slice(-MANIFEST_BUILDS_KEPT), files };
}
