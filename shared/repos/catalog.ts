import type { ArtifactStore } from '../storage/index.ts';
import { RepoFormats, type RepoFormat } from './layout.ts';
import { readPointerAt } from './pointer.ts';

export interface RepoListing {
  /** The repo key: `<parent dir of the package>/<dist>`. */
  key: string;
  format: RepoFormat;
  dist: string;
  url: string;
  keyUrl: string;
  version: string;
  publishedAt: string;
}

/** Every published repository in the store (one per `repos/<key>/<format>/current`), sorted. */
export async function listRepositories(store: ArtifactStore, publicUrl: string): Promise<RepoListing[]> {
  const base = publicUrl.replace(/\/$/, '');
  const found: RepoListing[] = [];
  for await (const entry of store.list('repos/')) {
    const parts = entry.key.split('/');
    if (parts.at(-1) !== 'current' || parts.length < 4) continue;
    const format = parts.at(-2) as RepoFormat;
    if (!(RepoFormats as readonly string[]).includes(format)) continue;
    const key = parts.slice(1, -2).join('/');
    const pointer = await readPointerAt(store, entry.key);
    const url = `${base}/${key}/${format}`;
    found.push({
      key,
      format,
      dist: parts.at(-3) ?? '',
      url,
      keyUrl: `${url}/key.asc`,
      version: pointer.version,
      publishedAt: pointer.publishedAt,
    });
  }
  return found.sort((a, b) => (a.key === b.key ? a.format.localeCompare(b.format) : a.key.localeCompare(b.key)));
}
