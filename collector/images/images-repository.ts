/**
 * Makes and publishes the next version of an image repository: the index of the live version
 * plus the new builds' images (sha256 checked in the store), index.json signed, the files
 * copied inside the store, and the version switched live like apt and rpm repositories.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import type { BuildEvent } from '../../shared/messages/index.ts';
import { newVersionId, versionPrefix } from '../../shared/repos/layout.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { checkStoredArtifact } from '../publish/artifact-download.ts';
import { MANIFEST_FILE, nextManifest, readManifest } from '../publish/manifest.ts';
import { readPointer } from '../../shared/repos/pointer.ts';
import { publishVersion } from '../publish/version-publisher.ts';
import type { Signer } from '../signing/index.ts';
import {
  IMAGES_INDEX_FILE,
  IMAGES_INDEX_SIGNATURE,
  indexedArtifactsOf,
  planImagesIndex,
  type ImageItem,
  type ImagesIndex,
} from './images-index.ts';

type Rejected = Array<{ event: BuildEvent; code: string; message: string }>;

/** As for apt and rpm (repo-builder.ts): no version when no build could be added. */
export type ImagesVersionResult =
  | { version: string; included: BuildEvent[]; already: BuildEvent[]; rejected: Rejected; durationMs: number }
  | { version: undefined; already: BuildEvent[]; rejected: Rejected };

export async function publishNextImagesVersion(options: {
  store: ArtifactStore;
  signer: Signer;
  repoKey: string;
  builds: readonly BuildEvent[];
  workDir: string;
  keepVersions: number;
  /** `<publicUrl>/<repoKey>/images`: the index's file URLs start with it. */
  repoUrl: string;
  signal?: AbortSignal;
  now?: Date;
}): Promise<ImagesVersionResult> {
  const started = Date.now();
  const { store, repoKey, signal } = options;
  const live = await readPointer(store, repoKey, 'images');
  const manifest = await readManifest(store, repoKey, 'images', live?.version);
  const previousPrefix = live ? versionPrefix(repoKey, 'images', live.version) : undefined;
  const previous: ImageItem[] = previousPrefix
    ? (JSON.parse((await store.get(`${previousPrefix}/${IMAGES_INDEX_FILE}`)).toString('utf8')) as ImagesIndex).items
    : [];

  const known = new Set(manifest.builds);
  const already = options.builds.filter((b) => known.has(b.buildId));
  const rejected: Rejected = [];
  const included: BuildEvent[] = [];
  for (const event of options.builds) {
    if (known.has(event.buildId)) continue;
    try {
      for (const artifact of indexedArtifactsOf(event)) {
        if (artifact.kind !== 'docker-image') await checkStoredArtifact(store, artifact.key, artifact.sha256, signal);
      }
      included.push(event);
    } catch (error) {
      if (!isBuildfleetError(error, 'artifact-missing')) throw error;
      rejected.push({ event, code: error.code, message: error.message });
    }
  }
  if (included.length === 0) return { version: undefined, already, rejected };

  const now = options.now ?? new Date();
  const version = newVersionId(now);
  const plan = planImagesIndex({
    previous,
    previousPrefix,
    builds: included,
    keepVersions: options.keepVersions,
    repoUrl: options.repoUrl.replace(/\/+$/, ''),
  });
  const index: ImagesIndex = { repoKey, version, publishedAt: now.toISOString(), items: plan.items };
  const work = join(options.workDir, createHash('sha256').update(`${repoKey}\0images`).digest('hex').slice(0, 16));
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const indexBytes = Buffer.from(`${JSON.stringify(index, null, 2)}\n`);
    await writeFile(join(work, IMAGES_INDEX_FILE), indexBytes);
    await writeFile(join(work, IMAGES_INDEX_SIGNATURE), await options.signer.detachSign(indexBytes, signal));
    await writeFile(join(work, 'key.asc'), options.signer.publicKeyArmored);
    const files = plan.copies.map((c) => c.path).sort();
    const added = included.map((b) => b.buildId);
    await writeFile(join(work, MANIFEST_FILE), JSON.stringify(nextManifest(manifest, added, files)));
    await publishVersion({ store, repoKey, format: 'images', dir: work, copies: plan.copies, version, now, signal });
    return { version, included, already, rejected, durationMs: Date.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
