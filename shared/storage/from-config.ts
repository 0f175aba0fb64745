import type { StorageConfig } from '../config/index.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { createArtifactStore } from './index.ts';

/** The store a service's `storage:` config section names. */
export function storeFromConfig(config: StorageConfig): Promise<ArtifactStore> {
  if (config.type === 'fs') return createArtifactStore({ type: 'fs', root: config.root });
  return createArtifactStore({
    type: 's3',
    bucket: config.bucket,
    prefix: config.prefix,
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
  });
}
