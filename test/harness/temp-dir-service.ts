/** A server the tests start in a temp dir of its own, removed when it stops. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Makes a temp dir (`<prefix><random>`), starts `start(dir)` in it and returns the started
 * server with a stop() that stops it, then removes the dir (idempotent). A failed start removes
 * the dir too.
 */
export async function startInTempDir<T extends { stop(): Promise<void> }>(
  prefix: string,
  start: (dir: string) => Promise<T>,
): Promise<{ server: T; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  let server: T;
  try {
    server = await start(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    server,
    stop: () => (stopping ??= server.stop().finally(() => rm(dir, { recursive: true, force: true }))),
  };
}
