/** The manifest kept inside every repository version: what it holds, so the next version starts from it. */
import { versionPrefix, type RepoFormat } from '../../shared/repos/layout.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';

export const MANIFEST_FILE = 'buildfleet-manifest.json';
/** Build ids remembered (so a redelivered success is not added twice), newest kept. */
const MANIFEST_BUILDS_KEPT = 10_000;

export interface Manifest {
  /** Build ids whose artifacts went into this repository (newest last). */
  builds: string[];
  /** Package (or image) files of the version, relative to its root. */
  files: string[];
  /**
   * For package files: the build that made each (`pool/main/h/hello/hello_1.0_amd64.deb` -> build
   * id), so a buildroot that installs one can report it in builtAgainst. Missing in manifests
   * written before it existed, and for files whose build is not known.
   */
  buildOf?: Record<string, string>;
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

/**
 * The next manifest: the builds of `previous` plus `added`, capped. `newFiles` maps the file
 * names (no directory) of the builds just added to their build; the files kept from `previous`
 * keep theirs.
 */
export function nextManifest(
  previous: Manifest,
  added: readonly string[],
  files: string[],
  newFiles: ReadonlyMap<string, string> = new Map(),
): Manifest {
  const byName = new Map<string, string>();
  for (const [file, buildId] of Object.entries(previous.buildOf ?? {})) byName.set(baseName(file), buildId);
  for (const [name, buildId] of newFiles) byName.set(name, buildId);
  const buildOf: Record<string, string> = {};
  for (const file of files) {
    const buildId = byName.get(baseName(file));
    if (buildId !== undefined) buildOf[file] = buildId;
  }
  return { builds: [...previous.builds, ...added].slice(-MANIFEST_BUILDS_KEPT), files, buildOf };
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}
