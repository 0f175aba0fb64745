/**
 * A local container registry for tests: Debian's `docker-registry serve <config.yml>` (the
 * distribution registry) on 127.0.0.1:<free port>, plain HTTP, storage in a temp dir, with
 * htpasswd authentication for one fixed test user. Call useRegistry() at a test file's top level.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after } from 'node:test';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { freePort } from './ports.ts';

/** The test user. Its password is a test value, not a secret: the registry only ever listens on 127.0.0.1. */
export const TEST_REGISTRY_USER = { username: 'buildfleet', password: 'buildfleet-test-registry-pw' } as const;
/** bcrypt (cost 4, so each request's check is quick) of TEST_REGISTRY_USER.password, made with python3's crypt. */
const TEST_REGISTRY_HTPASSWD = `${TEST_REGISTRY_USER.username}:$2b$04$D0cgmbzub1uL348uoIY2s.9i3R2LjUkLVXmEm4Fdju6mpBcMmTkQy\n`;

export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  address: string;
  username: string;
  password: string;
  /** The manifest digest the registry has for `<name>:<tag or digest>`, or undefined (HTTP HEAD). */
  manifestDigest(name: string, reference: string): Promise<string | undefined>;
  /** Stops the registry and removes its storage. Idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

function registryConfig(dir: string, address: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}`,
    'auth:',
    '  htpasswd:',
    '    realm: buildfleet-test',
    `    path: ${join(dir, 'htpasswd')}`,
    '',
  ].join('\n');
}

/** Starts a registry in a fresh temp dir and resolves once it answers /v2/. */
export async function startTestRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'buildfleet-registry-'));
  const address = `127.0.0.1:${await freePort()}`;
  await writeFile(join(dir, 'htpasswd'), TEST_REGISTRY_HTPASSWD);
  await writeFile(join(dir, 'config.yml'), registryConfig(dir, address));
  const recentLines: string[] = [];
  const controller = new AbortController();
  let exited = false;
  const ended = runCommand('docker-registry', ['serve', join(dir, 'config.yml')], {
    signal: controller.signal,
    killGraceMs: 3000,
    keepOutputChars: 16 * 1024,
    onLine: (line) => {
      recentLines.push(line);
      if (recentLines.length > 20) recentLines.shift();
    },
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  void ended.then(() => (exited = true));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      controller.abort(new Error('registry stopped'));
      await ended;
      await rm(dir, { recursive: true, force: true });
    })());
  const authorization = `Basic ${Buffer.from(`${TEST_REGISTRY_USER.username}:${TEST_REGISTRY_USER.password}`).toString('base64')}`;

  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited) {
        throw new BuildfleetError(
          'infra-failed',
          `docker-registry exited at start: ${recentLines.slice(-5).join(' | ')}`,
        );
      }
      const status = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => response.status,
        () => undefined,
      );
      if (status === 401 || status === 200) break;
      if (Date.now() > deadline) {
        throw new BuildfleetError('infra-failed', `docker-registry did not answer on ${address} within 20 s`);
      }
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    address,
    ...TEST_REGISTRY_USER,
    async manifestDigest(name, reference) {
      const response = await fetch(`http://${address}/v2/${name}/manifests/${reference}`, {
        method: 'HEAD',
        headers: { Authorization: authorization, Accept: MANIFEST_TYPES },
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`HEAD ${name}/manifests/${reference}: HTTP ${response.status}`);
      return response.headers.get('docker-content-digest') ?? undefined;
    },
    stop,
  };
}

/** A registry for this test file, stopped after its tests. Call at the file's top level. */
export async function useRegistry(): Promise<TestRegistry> {
  const registry = await startTestRegistry();
  after(() => registry.stop());
  return registry;
}
