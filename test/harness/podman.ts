/**
 * A container engine for tests: Podman's Docker-compatible API. A test file calls `usePodman()`
 * once, at its top level (an `after()` made inside a hook or test would end with it): it gets the run-wide service the test runner started
 * (BUILDFLEET_TEST_PODMAN_SOCKET), or else a service of its own on a socket in a temp dir,
 * stopped after the file's tests. Images live in podman's storage either way, so images made by
 * one test file (or an earlier run) are there for the next.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { startPodmanService } from '../../infra/podman/service.ts';
import { startInTempDir } from './temp-dir-service.ts';
import type { ContainerEngine } from '../../runner/engine/index.ts';

/** Unix socket of a podman service shared by a whole test run (set by the runner that started it). */
export const TEST_PODMAN_SOCKET_ENV = 'BUILDFLEET_TEST_PODMAN_SOCKET';

export interface TestPodman {
  socketPath: string;
  /** Stops the service and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface TestPodmanOptions {
  /** `host:port` of registries this service reaches over plain HTTP (a registries.conf in its temp dir). */
  insecureRegistries?: readonly string[];
}

/** registries.conf (v2) marking each registry insecure, and no short-name search. */
export function insecureRegistriesConf(registries: readonly string[]): string {
  const entries = registries.map((location) => `[[registry]]\nlocation = "${location}"\ninsecure = true\n`);
  return ['unqualified-search-registries = []', '', ...entries].join('\n');
}

/** Starts a podman service on a socket in a fresh temp dir, always (the run-wide runner uses this). */
export async function startTestPodman(signal?: AbortSignal, options: TestPodmanOptions = {}): Promise<TestPodman> {
  const { server, stop } = await startInTempDir('buildfleet-podman-', async (dir) => {
    let registriesConf: string | undefined;
    if (options.insecureRegistries !== undefined) {
      registriesConf = join(dir, 'registries.conf');
      await writeFile(registriesConf, insecureRegistriesConf(options.insecureRegistries));
    }
    return startPodmanService({
      socketPath: join(dir, 'podman.sock'),
      signal,
      ...(registriesConf === undefined ? {} : { registriesConf }),
    });
  });
  return { socketPath: server.socketPath, stop };
}

/**
 * The engine socket for this test file; see the module comment. With `insecureRegistries` the
 * file always gets a service of its own (the run-wide one cannot know the registries' ports);
 * it shares podman's image storage with the others all the same.
 */
export async function usePodman(options: TestPodmanOptions = {}): Promise<{ socketPath: string }> {
  const shared = process.env[TEST_PODMAN_SOCKET_ENV];
  if (shared !== undefined && shared !== '' && options.insecureRegistries === undefined) return { socketPath: shared };
  const podman = await startTestPodman(undefined, options);
  after(() => podman.stop());
  return { socketPath: podman.socketPath };
}

/** The variables a child test process needs to use `podman` through usePodman(). */
export function testPodmanEnv(podman: { socketPath: string }): Record<string, string> {
  return { [TEST_PODMAN_SOCKET_ENV]: podman.socketPath };
}

/**
 * Runs `cmd` in a container of `image` (no network, 256 MiB, 64 pids, at most a minute) and
 * resolves with its exit code and output lines.
 */
export async function runInContainer(
  engine: ContainerEngine,
  image: string,
  cmd: string[],
): Promise<{ exitCode: number; output: string[] }> {
  const output: string[] = [];
  const run = await engine.runContainer({
    image,
    cmd,
    workdir: '/',
    network: 'none',
    memoryBytes: 256 * 1024 * 1024,
    pidsLimit: 64,
    timeoutMs: 60_000,
    onLine: (line) => output.push(line),
  });
  return { exitCode: run.exitCode, output };
}
