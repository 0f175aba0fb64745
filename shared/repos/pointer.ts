/**
 * The `current` pointer of a published repository (layout.ts says where it lives): the one
 * place it is read, parsed and written, for the collector that switches versions and the
 * services that serve and list them.
 */
import { BuildfleetError, isBuildfleetError } from '../errors/index.ts';
import type { ArtifactStore } from '../storage/index.ts';
import { pointerKey, type RepoFormat } from './layout.ts';

/** The content of `current`. */
export interface RepoPointer {
  version: string;
  /** The version live before this one; still served for requests the new one cannot answer. */
  previous?: string;
  publishedAt: string;
}

function parsePointer(bytes: Buffer, where: string): RepoPointer {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BuildfleetError('internal', `${where}: not JSON`);
  }
  const v = value as Partial<RepoPointer> | null;
  if (typeof v?.version !== 'string' || typeof v.publishedAt !== 'string') {
    throw new BuildfleetError('internal', `${where}: not a repository pointer`);
  }
  return {
    version: v.version,
    publishedAt: v.publishedAt,
    ...(typeof v.previous === 'string' ? { previous: v.previous } : {}),
  };
}

/**
 * The pointer stored at `key` (a `.../current` key found by listing the store).
 * @throws BuildfleetError('internal') naming the key when it is not a pointer; the store's errors
 */
export async function readPointerAt(store: ArtifactStore, key: string): Promise<RepoPointer> {
  return parsePointer(await store.get(key), key);
}

/** The live version of a repository, or undefined before its first publish. */
export async function readPointer(
  store: ArtifactStore,
  repoKey: string,
  format: RepoFormat,
): Promise<RepoPointer | undefined> {
  const key = pointerKey(repoKey, format);
  let text: Buffer;
  try {
    text = await store.get(key); // one round trip: a missing pointer is the store's storage-not-found
  } catch (error) {
    if (isBuildfleetError(error, 'storage-not-found')) return undefined;
    throw error;
  }
  return parsePointer(text, key);
}

/** Switches the repository to `pointer.version`: one put of one object, so readers see the old or the new. */
export async function writePointer(
  store: ArtifactStore,
  repoKey: string,
  format: RepoFormat,
  pointer: RepoPointer,
  signal?: AbortSignal,
): Promise<void> {
  await store.put(pointerKey(repoKey, format), JSON.stringify(pointer), { contentType: 'application/json', signal });
}
