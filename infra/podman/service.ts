/**
 * A `podman system service` serving the Docker Engine API on a unix socket of our choosing,
 * with infra/podman/containers.conf (see the comments there for why the defaults do not work
 * on our machines). Used by the test harness and by a runner that brings its own engine.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';

/** The containers.conf every podman we start uses (passed as CONTAINERS_CONF). */
export const PODMAN_CONTAINERS_CONF = fileURLToPath(new URL('./containers.conf', import.meta.url));

export interface StartPodmanServiceOptions {
  /** Absolute path of the unix socket to serve; its directory is created. Must not be in use. */
  socketPath: string;
  /** Aborting while the service starts stops it and rejects with 'aborted'. */
  signal?: AbortSignal;
  /** How long to wait for the API to answer a ping. @default 30000 */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL on stop(). @default 5000 */
  stopGraceMs?: number;
  /** Every line the service writes (its log). @default kept only for error messages */
  onLine?: (line: string) => void;
  /**
   * A registries.conf for this service (CONTAINERS_REGISTRIES_CONF), e.g. to mark a local
   * registry insecure. @default the system's
   */
  registriesConf?: string;
}

export interface PodmanService {
  readonly socketPath: string;
  /** The environment under which podman commands see the same configuration. */
  readonly env: Record<string, string>;
  /** Stops the service (SIGTERM, SIGKILL after the grace) and removes the socket. Idempotent. */
  stop(): Promise<void>;
}

const READY_POLL_MS = 100;
const KEPT_LOG_LINES = 40;

/** Starts `podman system service --time=0 unix://<socketPath>` and resolves once it answers ping. */
export async function startPodmanService(options: StartPodmanServiceOptions): Promise<PodmanService> {
  const { socketPath, signal, readyTimeoutMs = 30_000, stopGraceMs = 5_000 } = options;
  throwIfAborted(signal);
  const docker = new Docker({ socketPath });
  if (existsSync(socketPath)) {
    if (await answersPing(docker)) {
      throw new BuildfleetError('infra-failed', `${socketPath} is already served by another engine`, {
        retriable: false,
        context: { socketPath },
      });
    }
    await rm(socketPath, { force: true }); // left by a service that died
  }
  await mkdir(dirname(socketPath), { recursive: true });

  const env: Record<string, string> = {
    CONTAINERS_CONF: PODMAN_CONTAINERS_CONF,
    ...(options.registriesConf === undefined ? {} : { CONTAINERS_REGISTRIES_CONF: options.registriesConf }),
  };
  const recentLines: string[] = [];
  const stopController = new AbortController();
  let exited = false;
  const service = runCommand('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    env,
    signal: stopController.signal,
    killGraceMs: stopGraceMs,
    keepOutputChars: 16 * 1024,
    onLine: (line) => {
      recentLines.push(line);
      if (recentLines.length > KEPT_LOG_LINES) recentLines.shift();
      options.onLine?.(line);
    },
  });
  // Settles when podman exits: after stop() that is 'aborted'; earlier it is a failure to report.
  const ended = service.then(
    () => undefined,
    (error: unknown) => error,
  );
  void ended.then(() => (exited = true));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopController.abort(new Error('podman service stopped'));
      // Resolves with 'aborted' (our stop) or the earlier failure: either way podman is gone now.
      await ended;
      await rm(socketPath, { force: true });
    })());

  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      throwIfAborted(signal);
      if (exited) {
        const error = await ended;
        throw new BuildfleetError(
          'infra-failed',
          `podman system service exited before answering: ${tail(recentLines)}`,
          {
            cause: error,
            context: { socketPath },
          },
        );
      }
      if (existsSync(socketPath) && (await answersPing(docker))) break;
      if (Date.now() > deadline) {
        throw new BuildfleetError('infra-failed', `podman system service did not answer within ${readyTimeoutMs} ms`, {
          context: { socketPath, log: tail(recentLines) },
        });
      }
      await sleep(READY_POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { socketPath, env, stop };
}

async function answersPing(docker: Docker): Promise<boolean> {
  try {
    // dockerode passes abortSignal on; @types/dockerode 4 does not declare it.
    const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping({ abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

function tail(lines: string[]): string {
  return lines.slice(-5).join(' | ') || '(no output)';
}
