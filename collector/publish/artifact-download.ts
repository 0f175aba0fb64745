/** Reading build artifacts from the store, with their sha256 checked: a missing or damaged one is 'artifact-missing'. */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';

async function openArtifact(store: ArtifactStore, key: string, signal?: AbortSignal): Promise<Readable> {
  try {
    return await store.getStream(key, { signal });
  } catch (error) {
    if (isBuildfleetError(error, 'storage-not-found')) {
      throw new BuildfleetError('artifact-missing', `artifact ${key} is not in the artifact store`, {
        context: { key },
      });
    }
    throw error;
  }
}

function checkDigest(key: string, actual: string, expected: string): void {
  if (actual !== expected) {
    throw new BuildfleetError(
      'artifact-missing',
      `artifact ${key} has sha256 ${actual}, the build reported ${expected}`,
      {
        context: { key },
      },
    );
  }
}

/** Downloads one object to `path`, checking its sha256 when given. */
export async function downloadArtifact(
  store: ArtifactStore,
  key: string,
  path: string,
  signal?: AbortSignal,
  sha256?: string,
): Promise<void> {
  await pipeline(await openArtifact(store, key, signal), createWriteStream(path), { signal });
  if (sha256 !== undefined) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    checkDigest(key, hash.digest('hex'), sha256);
  }
}

/** Reads one object through (nothing is kept) and checks its sha256. */
export async function checkStoredArtifact(
  store: ArtifactStore,
  key: string,
  sha256: string,
  signal?: AbortSignal,
): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(await openArtifact(store, key, signal), hash, { signal });
  checkDigest(key, hash.digest('hex'), sha256);
}
