import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import {
  newVersionId,
  removableVersions,
  repoRoot,
  versionPrefix,
  type RepoFormat,
} from '../../shared/repos/layout.ts';
import { readPointer, writePointer, type RepoPointer } from '../../shared/repos/pointer.ts';

export interface PublishVersionOptions {
  store: ArtifactStore;
  repoKey: string;
  format: RepoFormat;
  /** A repository tree on local disk; with `copies`, the rest of the version. */
  dir: string;
  /**
   * Objects already in the store that the version gets too, copied inside the store (large
   * files such as images need no download and upload): `from` a key, to `path` in the version.
   * @default []
   */
  copies?: ReadonlyArray<{ from: string; path: string }>;
  /** The new version's id, when the tree must name it (an image index does). @default newVersionId(now) */
  version?: string;
  /** Versions kept besides the live one and its predecessor. @default 0 */
  keepOldVersions?: number;
  signal?: AbortSignal;
  /** Runs after the upload and before the switch; tests use it to crash there. */
  beforeSwitch?: () => Promise<void>;
  now?: Date;
}

export interface PublishedVersion {
  version: string;
  pointer: RepoPointer;
  files: number;
  removedVersions: string[];
  durationMs: number;
}

const UPLOAD_CONCURRENCY = 4;

/**
 * Uploads `dir` as a new version of the repository and switches it live by replacing the
 * `current` pointer last, then deletes versions nobody is served any more. A failure before
 * the switch leaves the previous version live and untouched.
 */
export async function publishVersion(options: PublishVersionOptions): Promise<PublishedVersion> {
  const started = Date.now();
  const { store, repoKey, format, signal } = options;
  const version = options.version ?? newVersionId(options.now);
  const prefix = versionPrefix(repoKey, format, version);
  const files = await listFiles(options.dir);
  const upload = (file: string) => () =>
    store.put(`${prefix}/${file}`, createReadStream(join(options.dir, file)), { signal });
  const copy = (c: { from: string; path: string }) => () => store.copy(c.from, `${prefix}/${c.path}`, { signal });
  const steps = [...files.map(upload), ...(options.copies ?? []).map(copy)];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(UPLOAD_CONCURRENCY, steps.length) }, async () => {
      for (let i = next++; i < steps.length; i = next++) await steps[i]?.();
    }),
  );
  await options.beforeSwitch?.();
  const current = await readPointer(store, repoKey, format);
  const pointer: RepoPointer = {
    version,
    ...(current ? { previous: current.version } : {}),
    publishedAt: (options.now ?? new Date()).toISOString(),
  };
  await writePointer(store, repoKey, format, pointer, signal);
  const removedVersions = removableVersions(
    await listVersions(store, repoKey, format),
    pointer,
    options.keepOldVersions,
  );
  for (const old of removedVersions) await store.deletePrefix(`${versionPrefix(repoKey, format, old)}/`, { signal });
  return { version, pointer, files: steps.length, removedVersions, durationMs: Date.now() - started };
}

async function listVersions(store: ArtifactStore, repoKey: string, format: RepoFormat): Promise<string[]> {
  const prefix = `${repoRoot(repoKey, format)}/versions/`;
  const versions = new Set<string>();
  for await (const entry of store.list(prefix)) {
    const id = entry.key.slice(prefix.length).split('/')[0];
    if (id) versions.add(id);
  }
  return [...versions];
}

/** Every regular file below `dir`, as '/'-separated relative paths. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}
