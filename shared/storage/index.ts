import type { ArtifactStore } from './artifact-store.ts';
import { createFsArtifactStore, type FsArtifactStoreOptions } from './fs-store.ts';
import { createS3ArtifactStore, type S3ArtifactStoreOptions } from './s3-store.ts';

export type {
  ArtifactBody,
  ArtifactListing,
  ArtifactStat,
  ArtifactStore,
  PutOptions,
  ReadOptions,
} from './artifact-store.ts';
export { listAll } from './artifact-store.ts';
export { compareKeys, keyProblem, validateKey, validatePrefix, MAX_KEY_BYTES, MAX_SEGMENT_BYTES } from './keys.ts';
export { createFsArtifactStore, type FsArtifactStoreOptions } from './fs-store.ts';
export { createS3ArtifactStore, type S3ArtifactStoreOptions } from './s3-store.ts';

/** Which store to use, as plain data (from a service's config file). */
export type ArtifactStoreConfig = ({ type: 's3' } & S3ArtifactStoreOptions) | ({ type: 'fs' } & FsArtifactStoreOptions);

/** Creates the store `config` names; resolves once it is reachable (bucket checked, directory created). */
export function createArtifactStore(config: ArtifactStoreConfig): Promise<ArtifactStore> {
  switch (config.type) {
    case 's3':
      return createS3ArtifactStore(config);
    case 'fs':
      return createFsArtifactStore(config);
    default: {
      const unknown: never = config;
      throw new Error(`unknown artifact store type ${JSON.stringify(unknown)}`);
    }
  }
}
