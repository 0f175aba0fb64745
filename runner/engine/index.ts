export type { ContainerEngine, ImageInfo, RegistryAuth } from './port.ts';
export { pushedDigestIn } from './dockerode-push.ts';

export { createDockerodeEngine } from './dockerode-engine.ts';
export { ensureImage, KeyedLock } from './ensure-image.ts';
