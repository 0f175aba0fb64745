/**
 * runContainer over dockerode: create, start, logs (follow), wait — not docker.run(), which
 * echoes its options into the output. The container is always removed before this returns.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { OutputLines } from '../../shared/exec/output-lines.ts';
import { engineStatusCode, toEngineError } from './engine-errors.ts';
import type { ContainerRunResult, EngineLineListener, RunContainerOptions } from './port.ts';

/** How long the log stream may lag behind the container's exit before we stop reading it. */
const LOG_DRAIN_MS = 5_000;
/** How long a killed container may take to be reported as exited. */
const KILL_WAIT_MS = 10_000;
/** OutputLines keeps a tail for error messages; nothing here uses it, so it stays small. */
const KEPT_CHARS = 1024;

type Stop = { reason: 'abort' } | { reason: 'timeout' };

export async function runContainer(docker: Docker, run: RunContainerOptions): Promise<ContainerRunResult> {
  throwIfAborted(run.signal);
  const context = { image: run.image, cmd: run.cmd.join(' ') };
  let container: Docker.Container;
  try {
    container = await docker.createContainer(createOptions(run));
  } catch (error) {
    throw toEngineError(error, `create a container from ${run.image}`, context);
  }
  const started = performance.now();
  try {
    return await runCreated(docker, container, run, started);
  } finally {
    await removeUntilGone(docker, container.id);
  }
}

/** Removal tries: a busy engine can refuse a removal (409 while the container is still stopping). */
const REMOVE_TRIES = 5;
const REMOVE_PAUSE_MS = 1000;

/**
 * Removes a finished run's container, trying again while the engine answers 409 (still
 * stopping); never throws: the run's result stands even if its container is left behind.
 */
async function removeUntilGone(docker: Docker, containerId: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await removeContainer(docker, containerId);
      return;
    } catch (error) {
      const refused = engineStatusCode(error instanceof Error && error.cause !== undefined ? error.cause : error);
      if (attempt >= REMOVE_TRIES || refused !== 409) return;
      await sleep(REMOVE_PAUSE_MS);
    }
  }
}

function createOptions(run: RunContainerOptions): Docker.ContainerCreateOptions {
  return {
    Image: run.image,
    Cmd: [...run.cmd],
    User: run.user,
    WorkingDir: run.workdir,
    Env: Object.entries(run.env ?? {}).map(([name, value]) => `${name}=${value}`),
    Labels: run.labels ?? {},
    Tty: false,
    AttachStdin: false,
    OpenStdin: false,
    HostConfig: {
      Binds: (run.mounts ?? []).map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly === true ? ':ro' : ''}`),
      NetworkMode: run.network === 'none' ? 'none' : 'default',
      Memory: run.memoryBytes,
      PidsLimit: run.pidsLimit,
      ...(run.cpus === undefined ? {} : { NanoCpus: Math.round(run.cpus * 1e9) }),
      AutoRemove: false,
    },
  };
}

async function runCreated(docker: Docker, container: Docker.Container, run: RunContainerOptions, started: number) {
  const what = `container ${container.id.slice(0, 12)} (${run.image})`;
  // The first of abort and timeout wins: a promise settles once.
  let stop: (reason: Stop) => void = () => undefined;
  const stopPromise = new Promise<Stop>((resolve) => (stop = resolve));
  const onAbort = (): void => stop({ reason: 'abort' });
  run.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    throwIfAborted(run.signal);
    try {
      await container.start();
    } catch (error) {
      throw toEngineError(error, `start ${what}`, { containerId: container.id });
    }
    timer = setTimeout(() => stop({ reason: 'timeout' }), run.timeoutMs);
    run.onStarted?.(container.id);
    const output = followLogs(docker, container, run.onLine);
    const exited = container.wait().then(
      (result: unknown) => ({ result }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([exited, stopPromise]);
    if ('reason' in first) {
      await container.kill().catch(() => undefined);
      await withDeadline(exited, KILL_WAIT_MS);
      output.close();
      throw stoppedError(first, run, what, container.id);
    }
    await withDeadline(output.done, LOG_DRAIN_MS);
    output.close();
    if ('error' in first) throw toEngineError(first.error, `wait for ${what}`, { containerId: container.id });
    const exitCode = statusCodeOf(first.result);
    return { containerId: container.id, exitCode, durationMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
    run.signal?.removeEventListener('abort', onAbort);
  }
}

function stoppedError(stop: Stop, run: RunContainerOptions, what: string, containerId: string): BuildfleetError {
  const context = { containerId, image: run.image };
  switch (stop.reason) {
    case 'abort': {
      const reason: unknown = run.signal?.reason;
      const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
      return new BuildfleetError('aborted', `${what}: stopped (${why})`, { cause: reason, context });
    }
    case 'timeout':
      return new BuildfleetError('exec-timeout', `${what}: stopped after the time limit of ${run.timeoutMs} ms`, {
        context,
      });
    default: {
      const unknownStop: never = stop;
      throw new Error(`unknown stop ${String(unknownStop)}`);
    }
  }
}

interface FollowedLogs {
  /** Settles when the engine ends the log stream (normally right after the container exits). */
  done: Promise<void>;
  /** Stops reading and flushes the last partial lines. Idempotent. */
  close(): void;
}

/**
 * Streams the container's stdout and stderr (multiplexed, since there is no TTY) to onLine.
 * Not awaited by the caller: Podman answers a follow request only once the container has
 * written something, so a silent container would otherwise hold us up past an abort.
 */
function followLogs(docker: Docker, container: Docker.Container, onLine: EngineLineListener | undefined): FollowedLogs {
  const stdout = new OutputLines('stdout', KEPT_CHARS, onLine);
  const stderr = new OutputLines('stderr', KEPT_CHARS, onLine);
  const request = new AbortController();
  const sink = (lines: OutputLines): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.write(chunk);
        callback();
      },
    });
  const done = (async () => {
    try {
      const stream = await container.logs({ follow: true, stdout: true, stderr: true, abortSignal: request.signal });
      await new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
        docker.modem.demuxStream(stream, sink(stdout), sink(stderr));
      });
    } catch {
      // Aborted by close(), or the container is gone: the output ends here either way.
    }
  })();
  let closed = false;
  return {
    done,
    close() {
      if (closed) return;
      closed = true;
      request.abort();
      stdout.end();
      stderr.end();
    },
  };
}

function statusCodeOf(result: unknown): number {
  if (
    typeof result === 'object' &&
    result !== null &&
    'StatusCode' in result &&
    typeof result.StatusCode === 'number'
  ) {
    return result.StatusCode;
  }
  throw new BuildfleetError('infra-failed', `the engine's wait answer has no StatusCode: ${JSON.stringify(result)}`);
}

async function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Kills (when running) and removes the container; a container already gone is fine. */
export async function removeContainer(docker: Docker, containerId: string): Promise<void> {
  try {
    await docker.getContainer(containerId).remove({ force: true, v: true });
  } catch (error) {
    if (engineStatusCode(error) === 404) return;
    throw toEngineError(error, `remove container ${containerId.slice(0, 12)}`, { containerId });
  }
}
