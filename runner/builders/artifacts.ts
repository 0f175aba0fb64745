/** Which artifact kind a result file is, from its name: pure, and the same for every builder. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactKind } from '../../shared/messages/index.ts';
import type { CollectedArtifact } from './types.ts';

/** First match wins: `.src.rpm` before `.rpm`. */
const KIND_BY_NAME: readonly (readonly [RegExp, ArtifactKind])[] = [
  [/\.(deb|udeb|ddeb)$/, 'deb'],
  // A Debian source package: the .dsc and the tarballs and diff it lists.
  [/\.dsc$/, 'deb-source'],
  [/\.tar\.(gz|xz|bz2|lzma|zst)$/, 'deb-source'],
  [/\.diff\.gz$/, 'deb-source'],
  [/\.src\.rpm$/, 'srpm'],
  [/\.nosrc\.rpm$/, 'srpm'],
  [/\.rpm$/, 'rpm'],
  [/\.(buildinfo|changes)$/, 'buildinfo'],
];

export function artifactKindOf(fileName: string): ArtifactKind {
  for (const [pattern, kind] of KIND_BY_NAME) if (pattern.test(fileName)) return kind;
  return 'other';
}

/** Every regular file below outDir (subdirectories included), sorted by relative name. */
export async function collectArtifacts(outDir: string): Promise<CollectedArtifact[]> {
  const entries = await readdir(outDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      const name = path.slice(outDir.length).replace(/^\/+/, '');
      return { name, kind: artifactKindOf(entry.name), path };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
