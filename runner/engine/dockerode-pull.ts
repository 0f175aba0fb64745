/**
 * pullImage over dockerode (`POST /images/create?fromImage=<reference>`). Like a push, a failed
 * pull answers HTTP 200 (Podman) or 404/500 (Docker) and names the failure in an `error` item of
 * the progress stream or in the body. Neither engine passes the registry's answer on as data:
 * what it does pass on is the registry's error code from the distribution spec (`manifest
 * unknown`, `unauthorized`, `denied`...) inside its text, so that closed list of codes, not free
 * wording, decides whether a retry can help.
 */
import type Docker from 'dockerode';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { engineMessage, toEngineError } from './engine-errors.ts';
import type { ImageInfo, PullImageOptions } from './port.ts';
import { readProgress } from './progress.ts';

/** Why a registry refused a pull for good: the image is not there, or these credentials may not read it. */
export type PullRefusal = 'not-found' | 'denied';

/**
 * The distribution spec's error codes (https://distribution.github.io/distribution/spec/api/#errors),
 * as engines print them: `manifest unknown`, `MANIFEST_UNKNOWN`, `name unknown`, `unauthorized`,
 * `denied`, plus the engines' own words for a missing repository or tag.
 */
const REFUSALS: ReadonlyArray<readonly [RegExp, PullRefusal]> = [
  [/\b(manifest[ _]unknown|name[ _]unknown|blob[ _]unknown|not found|does not exist)\b/i, 'not-found'],
  [/\b(unauthorized|denied|authentication required|no basic auth credentials)\b/i, 'denied'],
];

/**
 * Pure: whether the engine's text for a failed pull carries a registry refusal (not retriable),
 * or undefined (the registry was not reached or failed: retriable).
 */
export function pullRefusal(message: string): PullRefusal | undefined {
  return REFUSALS.find(([pattern]) => pattern.test(message))?.[1];
}

function pullError(reference: string, message: string, cause?: unknown): BuildfleetError {
  const refusal = pullRefusal(message);
  return new BuildfleetError('infra-failed', `pull ${reference}: ${message}`, {
    cause,
    retriable: refusal === undefined,
    context: { image: reference, refusal: refusal ?? null },
  });
}

export async function pullImage(
  docker: Docker,
  reference: string,
  options: PullImageOptions,
  inspect: (ref: string) => Promise<ImageInfo | undefined>,
): Promise<ImageInfo> {
  const { auth, signal } = options;
  throwIfAborted(signal);
  try {
    // The whole reference as fromImage (tag or digest included, no `tag` parameter): Docker and
    // Podman both read it so; an empty tag with a bare name would make Docker pull every tag.
    const progress = await docker.createImage(
      auth === undefined
        ? undefined
        : { username: auth.username, password: auth.password, serveraddress: auth.serverAddress },
      { fromImage: reference, abortSignal: signal },
    );
    const outcome = await readProgress(progress, options.onLine);
    if (outcome.error !== undefined) throw pullError(reference, outcome.error);
  } catch (error) {
    throwIfAborted(signal);
    if (error instanceof BuildfleetError) throw error;
    const mapped = toEngineError(error, `pull ${reference}`, { image: reference });
    // Docker answers 404/500 with the registry's text in the body.
    throw mapped.code === 'infra-failed' ? pullError(reference, engineMessage(error), error) : mapped;
  }
  const image = await inspect(reference);
  if (image === undefined) {
    throw new BuildfleetError('infra-failed', `pull ${reference}: the engine reported success but has no such image`, {
      context: { image: reference },
    });
  }
  return image;
}
