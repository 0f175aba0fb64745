import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import type { Artifact, ArtifactKind } from '../../shared/messages/index.ts';

/** Where a build attempt's files live in the artifact store. */
export function buildPrefix(buildId: string, attempt: number): string {
  return `builds/${buildId}/attempt-${attempt}`;
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

/**
 * Hashes and uploads one file; the returned record is what the `succeeded` event lists (with
 * `reported`'s name, size and sha256 instead of the file's when given: a pushed docker image).
 */
export async function uploadArtifact(
  store: ArtifactStore,
  prefix: string,
  file: { name: string; kind: ArtifactKind; path: string; reported?: { name: string; size: number; sha256: string } },
  signal?: AbortSignal,
): Promise<Artifact> {
  const [sha256, info] = await Promise.all([sha256File(file.path, signal), stat(file.path)]);
  const key = `${prefix}/${file.name}`;
  await store.put(key, createReadStream(file.path), { signal });
  if (file.reported !== undefined) return { ...file.reported, kind: file.kind, key };
  return { name: file.name, kind: file.kind, size: info.size, sha256, key };
}
