export type {
  BuildImageOptions,
  ContainerEngine,
  ContainerMount,
  ContainerRunResult,
  EngineLineListener,
  ImageInfo,
  ImportImageOptions,
  RunContainerOptions,
} from './port.ts';
export { createDockerodeEngine, splitReference, type DockerodeEngineOptions } from './dockerode-engine.ts';
export { ensureImage, KeyedLock, type EnsuredImage } from './ensure-image.ts';
