/**
 * The ContainerEngine port: what the runner needs from Docker or Podman, in its own words.
 * One adapter: ./dockerode-engine.ts (Docker Engine API, which Podman serves too).
 *
 * Errors (BuildfleetError codes):
 * - 'engine-unavailable' (retriable): the engine's socket does not answer.
 * - 'build-failed': a Dockerfile step failed (buildImage).
 * - 'upload-failed' (retriable): the registry refused or could not be reached (pushImage).
 * - 'infra-failed' from pullImage: retriable, except when the registry answered that the image does
 *   not exist or may not be read (`retriable: false`, `context.refusal`).
 * - 'aborted': the caller's signal fired; a container started for the call is killed and removed.
 * - 'exec-timeout': runContainer's time limit ran out; the container is killed and removed.
 * - 'infra-failed' (retriable): any other engine answer (missing image, bad request, server error).
 */
import type { Readable } from 'node:stream';

/** A line of output from a container or a build; `stream` tells stdout from stderr where the engine does. */
export type EngineLineListener = (line: string, stream: 'stdout' | 'stderr') => void;

export interface ImageInfo {
  /** The engine's content id, `sha256:<hex>`. */
  id: string;
  /** Every name:tag pointing at the image (Podman writes `docker.io/` in front of short names). */
  tags: string[];
  labels: Record<string, string>;
  sizeBytes: number;
}

export interface ImportImageOptions {
  /** A tar archive of a root filesystem (what `mmdebstrap ... out.tar` writes). */
  tar: Readable;
  /** The name:tag the imported image gets. */
  tag: string;
  signal?: AbortSignal;
}

export interface BuildImageOptions {
  /** Directory sent as the build context; a `.dockerignore` in it is honoured. */
  contextDir: string;
  /** Dockerfile path relative to contextDir. @default 'Dockerfile' */
  dockerfile?: string;
  /** The name:tag of the result. */
  tag: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  /**
   * Network of the RUN steps. @default 'default' (RUN steps may download, e.g. apt-get); 'host'
   * shares the engine host's network, so servers on its 127.0.0.1 are reachable.
   */
  network?: 'none' | 'default' | 'host';
  /** The stage of a multi-stage Dockerfile to build. @default the last stage */
  target?: string;
  /** Every line of the build output (step headers, RUN output). */
  onLine?: EngineLineListener;
  signal?: AbortSignal;
}

/** Credentials for a registry: sent to the engine in the X-Registry-Auth header, never logged. */
export interface RegistryAuth {
  username: string;
  password: string;
  /** The registry host[:port] the credentials are for. */
  serverAddress: string;
}

export interface PushImageOptions {
  /** `registry[:port]/path/name:tag` of a local image; pushed under that name. */
  reference: string;
  /** @default no credentials */
  auth?: RegistryAuth;
  /**
   * Plain HTTP or unverified TLS to the registry. Podman honours it per push (`tlsVerify=false`);
   * a Docker engine ignores it and needs the registry in its `insecure-registries`.
   * @default false
   */
  insecure?: boolean;
  /** The engine's progress lines (layer uploads, the digest line). */
  onLine?: EngineLineListener;
  signal?: AbortSignal;
}

export interface PullImageOptions {
  /** @default no credentials */
  auth?: RegistryAuth;
  /** The engine's progress lines (layer downloads). */
  onLine?: EngineLineListener;
  signal?: AbortSignal;
}

export interface PushedImage {
  reference: string;
  /** The manifest digest the registry stored, `sha256:<hex>`: what `pull <name>@<digest>` fetches. */
  digest: string;
}

export interface ContainerMount {
  /** Absolute path on the engine's host. */
  hostPath: string;
  containerPath: string;
  /** @default false */
  readOnly?: boolean;
}

export interface RunContainerOptions {
  image: string;
  /** argv; no shell is added. */
  cmd: readonly string[];
  /** `name`, `uid` or `uid:gid` inside the image. @default the image's user (root for our images) */
  user?: string;
  workdir: string;
  mounts?: readonly ContainerMount[];
  env?: Record<string, string>;
  /** 'none' leaves only the loopback interface. */
  network: 'none' | 'default';
  memoryBytes: number;
  pidsLimit: number;
  /** CPUs the container may use (fractions allowed). @default no limit */
  cpus?: number;
  /** The container is killed and removed after this long; runContainer throws 'exec-timeout'. */
  timeoutMs: number;
  labels?: Record<string, string>;
  signal?: AbortSignal;
  onLine?: EngineLineListener;
  /** Called with the container id once it runs; for logging and for looking at it from outside. */
  onStarted?: (containerId: string) => void;
}

export interface ContainerRunResult {
  containerId: string;
  /**
   * The command's exit code. A non-zero code is returned, not thrown: whether it is a failed
   * build is the caller's call (it knows the tool and has the log).
   */
  exitCode: number;
  durationMs: number;
}

export interface ContainerEngine {
  /** Resolves when the engine answers; throws 'engine-unavailable' otherwise. */
  ping(signal?: AbortSignal): Promise<void>;
  /** The image `ref` (name:tag or id) names, or undefined when there is none. */
  inspectImage(ref: string, signal?: AbortSignal): Promise<ImageInfo | undefined>;
  imageExists(ref: string, signal?: AbortSignal): Promise<boolean>;
  /** Imports a root filesystem tarball as a one-layer image tagged `tag`. */
  importImage(options: ImportImageOptions): Promise<ImageInfo>;
  /** Builds a Dockerfile; a failing step throws 'build-failed' carrying the engine's error text. */
  buildImage(options: BuildImageOptions): Promise<ImageInfo>;
  /** Removes a tag (and the image when no other tag or container uses it). Missing is fine. */
  removeImage(ref: string): Promise<void>;
  /** Gives the image `ref` names the extra name `newRef` (`registry/name:tag`). */
  tagImage(ref: string, newRef: string, signal?: AbortSignal): Promise<void>;
  /**
   * Pushes a local image to its registry and returns the manifest digest the registry reported.
   * A refused push (credentials, unreachable registry) throws 'upload-failed' with the engine's text.
   */
  pushImage(options: PushImageOptions): Promise<PushedImage>;
  /**
   * Pulls `reference` (`registry[:port]/path/name:tag` or `...@sha256:<hex>`) into the engine and
   * returns the local image. A registry over plain HTTP must be marked insecure in the engine's
   * own configuration (Podman: registries.conf; Docker: insecure-registries).
   */
  pullImage(reference: string, options?: PullImageOptions): Promise<ImageInfo>;
  /**
   * Runs `cmd` in a new container (create, start, logs, wait), streams its output, and removes it
   * whatever happens. Aborting or the time limit kills it first.
   */
  runContainer(options: RunContainerOptions): Promise<ContainerRunResult>;
  /** Kills (when running) and removes a container. Missing is fine. */
  removeContainer(containerId: string): Promise<void>;
}
