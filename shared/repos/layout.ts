/**
 * Where published repositories live in the artifact store, and how a version is switched
 * live (DESIGN.md §7). Pure: names and ordering only.
 *
 *   repos/<repoKey>/<format>/versions/<version>/...   one complete repository tree per version
 *   repos/<repoKey>/<format>/current                  JSON pointer to the live version, written last
 *
 * A version is uploaded completely before `current` names it, and `current` is one object
 * replaced in one put (a rename on the filesystem store), so a reader sees the old or the new
 * version, never a mix; a crash before the switch leaves the previous version live.
 */
import { randomBytes } from 'node:crypto';
import { BuildfleetError } from '../errors/index.ts';

export const RepoFormats = ['apt', 'rpm', 'images'] as const;
export type RepoFormat = (typeof RepoFormats)[number];

export function repoRoot(repoKey: string, format: RepoFormat): string {
  if (repoKey === '' || repoKey.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new BuildfleetError('key-invalid', `repository key "${repoKey}" is not a plain relative path`);
  }
  return `repos/${repoKey}/${format}`;
}

export function pointerKey(repoKey: string, format: RepoFormat): string {
  return `${repoRoot(repoKey, format)}/current`;
}

export function versionPrefix(repoKey: string, format: RepoFormat, version: string): string {
  if (!/^[0-9A-Za-z-]+$/.test(version)) throw new BuildfleetError('key-invalid', `bad repository version "${version}"`);
  return `${repoRoot(repoKey, format)}/versions/${version}`;
}

/** A new version id: sortable by time (UTC, ms), unique by a random tail. */
export function newVersionId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '').replace('T', 't').replace('Z', 'z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Pure: which versions may be deleted once `pointer` is live: all but the live one, its
 * predecessor (still served to clients that started reading it) and the `keep` newest others.
 */
export function removableVersions(
  all: readonly string[],
  pointer: { version: string; previous?: string },
  keep = 0,
): string[] {
  const protectedIds = new Set([pointer.version, ...(pointer.previous ? [pointer.previous] : [])]);
  const others = [...all]
    .filter((v) => !protectedIds.has(v))
    .sort()
    .reverse();
  return others.slice(keep);
}
