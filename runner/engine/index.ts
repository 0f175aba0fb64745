export type {
  BuildImageOptions,
  ContainerEngine,
  ContainerMount,
  ContainerRunResult,
  EngineLineListener,
  ImageInfo,
  ImportImageOptions,
  PullImageOptions,
  PushedImage,
  PushImageOptions,
  RegistryAuth,
  RunContainerOptions,
} from './port.ts';
export { pushedDigestIn } from './dockerode-push.ts';
export { pullRefusal, type PullRefusal } from './dockerode-pull.ts';
export { createDockerodeEngine, splitReference, type DockerodeEngineOptions } from './dockerode-engine.ts';
export { ensureImage, KeyedLock, type EnsuredImage } from './ensure-image.ts';
