/**
 * The ContainerEngine adapter over the Docker Engine API (dockerode), which Docker and
 * `podman system service` both serve. Images here; containers in ./dockerode-run.ts.
 */
import { readdir } from 'node:fs/promises';
import Docker from 'dockerode';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { engineStatusCode, toEngineError } from './engine-errors.ts';
import { pullImage } from './dockerode-pull.ts';
import { pushImage } from './dockerode-push.ts';
import { runContainer, removeContainer } from './dockerode-run.ts';
import type { BuildImageOptions, ContainerEngine, ImageInfo, ImportImageOptions } from './port.ts';
import { readProgress } from './progress.ts';

export interface DockerodeEngineOptions {
  /** The engine's unix socket, e.g. /run/podman/podman.sock or /var/run/docker.sock. */
  socketPath: string;
  /** How long ping() waits for an answer. @default 5000 */
  pingTimeoutMs?: number;
}

/** Creates the adapter; nothing is contacted until the first call. */
export function createDockerodeEngine(options: DockerodeEngineOptions): ContainerEngine {
  const docker = new Docker({ socketPath: options.socketPath });
  const pingTimeoutMs = options.pingTimeoutMs ?? 5000;

  async function inspectImage(ref: string, signal?: AbortSignal): Promise<ImageInfo | undefined> {
    throwIfAborted(signal);
    try {
      // No abortSignal here: dockerode does not pass one on for image inspection (a quick call anyway).
      const info = await docker.getImage(ref).inspect();
      return {
        id: info.Id,
        tags: info.RepoTags ?? [],
        labels: info.Config?.Labels ?? {},
        sizeBytes: info.Size,
      };
    } catch (error) {
      if (engineStatusCode(error) === 404) return undefined;
      throw toEngineError(error, `inspect image ${ref}`, { image: ref });
    }
  }

  async function requireImage(ref: string, what: string): Promise<ImageInfo> {
    const info = await inspectImage(ref);
    if (info === undefined) {
      throw new BuildfleetError('infra-failed', `${what}: the engine reported success but has no image ${ref}`, {
        context: { image: ref },
      });
    }
    return info;
  }

  return {
    async ping(signal) {
      const timeout = AbortSignal.timeout(pingTimeoutMs);
      const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
      try {
        await pingWithSignal(docker, combined);
      } catch (error) {
        throwIfAborted(signal);
        if (timeout.aborted) {
          throw new BuildfleetError(
            'engine-unavailable',
            `the container engine did not answer within ${pingTimeoutMs} ms`,
            {
              cause: error,
              context: { socketPath: options.socketPath },
            },
          );
        }
        const mapped = toEngineError(error, 'ping', { socketPath: options.socketPath });
        // Whatever answers a ping with an error is not an engine we can use.
        throw mapped.code === 'infra-failed'
          ? new BuildfleetError('engine-unavailable', mapped.message, { cause: error, context: mapped.context })
          : mapped;
      }
    },

    inspectImage,

    async imageExists(ref, signal) {
      return (await inspectImage(ref, signal)) !== undefined;
    },

    async importImage({ tar, tag, signal }: ImportImageOptions) {
      throwIfAborted(signal);
      const what = `import image ${tag}`;
      let imageId: string | undefined;
      try {
        const progress = await docker.importImage(tar, { abortSignal: signal });
        const outcome = await readProgress(progress, undefined);
        if (outcome.error !== undefined) {
          throw new BuildfleetError('infra-failed', `${what}: ${outcome.error}`, { context: { image: tag } });
        }
        imageId = outcome.imageId;
        if (imageId === undefined) {
          throw new BuildfleetError('infra-failed', `${what}: the engine did not say which image it made`, {
            context: { image: tag, output: outcome.unparsed.slice(-5) },
          });
        }
        // Podman ignores the tag parameter of an import, so the image is tagged by id afterwards.
        const { repo, tag: version } = splitReference(tag);
        await docker.getImage(imageId).tag({ repo, tag: version });
      } catch (error) {
        throw toEngineError(error, what, { image: tag });
      }
      return requireImage(tag, what);
    },

    async buildImage(build: BuildImageOptions) {
      throwIfAborted(build.signal);
      const what = `build image ${build.tag}`;
      try {
        const entries = await readdir(build.contextDir);
        const progress = await docker.buildImage(
          { context: build.contextDir, src: entries },
          {
            t: build.tag,
            dockerfile: build.dockerfile ?? 'Dockerfile',
            buildargs: build.buildArgs ?? {},
            labels: build.labels ?? {},
            networkmode: build.network ?? 'default',
            ...(build.target === undefined ? {} : { target: build.target }),
            rm: true,
            forcerm: true,
            abortSignal: build.signal,
          },
        );
        const outcome = await readProgress(progress, build.onLine);
        if (outcome.error !== undefined) {
          throw new BuildfleetError('build-failed', `${what}: ${outcome.error}`, {
            context: { image: build.tag, contextDir: build.contextDir },
          });
        }
      } catch (error) {
        throwIfAborted(build.signal);
        throw toEngineError(error, what, { image: build.tag });
      }
      return requireImage(build.tag, what);
    },

    async removeImage(ref) {
      try {
        await docker.getImage(ref).remove();
      } catch (error) {
        if (engineStatusCode(error) === 404) return;
        throw toEngineError(error, `remove image ${ref}`, { image: ref });
      }
    },

    async tagImage(ref, newRef, signal) {
      throwIfAborted(signal);
      const { repo, tag } = splitReference(newRef);
      try {
        await docker.getImage(ref).tag({ repo, tag, abortSignal: signal });
      } catch (error) {
        throwIfAborted(signal);
        throw toEngineError(error, `tag image ${ref} as ${newRef}`, { image: ref });
      }
    },

    pushImage: (push) => pushImage(docker, push, splitReference(push.reference)),
    pullImage: (reference, pull = {}) => pullImage(docker, reference, pull, (ref) => inspectImage(ref)),

    runContainer: (run) => runContainer(docker, run),
    removeContainer: (containerId) => removeContainer(docker, containerId),
  };
}

/** dockerode's ping takes an abortSignal, which @types/dockerode 4 does not declare. */
function pingWithSignal(docker: Docker, signal: AbortSignal): Promise<unknown> {
  const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
  return ping({ abortSignal: signal });
}

/** `registry:5000/a/b:tag` -> { repo: 'registry:5000/a/b', tag: 'tag' }; no tag means `latest`. */
export function splitReference(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}
