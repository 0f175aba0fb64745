/**
 * pushImage over dockerode. Like a build, a refused push answers HTTP 200 and reports the
 * failure as an `error` item of the progress stream; the digest comes as a status line
 * `<tag>: digest: sha256:<hex> size: <n>` (Docker and Podman both write it; Docker adds an
 * `aux` item with the same digest).
 */
import type Docker from 'dockerode';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { toEngineError } from './engine-errors.ts';
import type { PushedImage, PushImageOptions } from './port.ts';
import { readProgress } from './progress.ts';

const DIGEST_LINE = /^\s*(\S+): digest: (sha256:[0-9a-f]{64}) size: \d+/;

/** Pure: the manifest digest in a push progress line for `tag`, or undefined. */
export function pushedDigestIn(line: string, tag: string): string | undefined {
  const match = DIGEST_LINE.exec(line);
  return match !== null && match[1] === tag ? match[2] : undefined;
}

/** `name` is the reference split into repository (`registry/path/name`) and tag. */
export async function pushImage(
  docker: Docker,
  options: PushImageOptions,
  name: { repo: string; tag: string },
): Promise<PushedImage> {
  throwIfAborted(options.signal);
  const what = `push ${options.reference}`;
  const context = { image: options.reference };
  let digest: string | undefined;
  try {
    const { auth } = options;
    const progress = await docker.getImage(name.repo).push({
      tag: name.tag,
      ...(options.insecure === true ? { tlsVerify: false } : {}),
      ...(auth === undefined
        ? {}
        : { authconfig: { username: auth.username, password: auth.password, serveraddress: auth.serverAddress } }),
      abortSignal: options.signal,
    });
    const outcome = await readProgress(progress, (line, stream) => {
      digest = pushedDigestIn(line, name.tag) ?? digest;
      options.onLine?.(line, stream);
    });
    if (outcome.error !== undefined) {
      throw new BuildfleetError('upload-failed', `${what}: ${outcome.error}`, { context });
    }
  } catch (error) {
    throwIfAborted(options.signal);
    throw toEngineError(error, what, context);
  }
  if (digest === undefined) {
    throw new BuildfleetError('upload-failed', `${what}: the engine did not report the digest of the pushed image`, {
      context,
    });
  }
  return { reference: options.reference, digest };
}
