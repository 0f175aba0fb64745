/**
 * The temp root of one kiwi build: target, temp, cache and gpg directories in a fresh directory
 * (kiwi-ng builds the image root inside it), and its removal. kiwi-ng runs in a mount namespace
 * of its own, so its bind mounts (/proc, /dev, /sys, the cache) vanish with it; removal still
 * refuses to recurse into anything mounted below the root, which would delete host files.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../shared/exec/index.ts';
import { mountPointsUnder, type KiwiRootDirs } from './kiwi-plan.ts';

export interface KiwiRoot {
  path: string;
  dirs: KiwiRootDirs;
  /**
   * Unmounts what is still mounted below the root (lazily) and removes it. Never throws: what
   * cannot be removed is reported through `report` and left in place.
   */
  remove(report: (line: string) => void): Promise<void>;
}

/** Makes `<parent>/buildfleet-kiwi-XXXXXX` with its directories. */
export async function createKiwiRoot(parent: string): Promise<KiwiRoot> {
  await mkdir(parent, { recursive: true });
  const path = await mkdtemp(join(parent, 'buildfleet-kiwi-'));
  const dirs: KiwiRootDirs = {
    target: join(path, 'target'),
    tmp: join(path, 'tmp'),
    cache: join(path, 'cache'),
    gnupg: join(path, 'gnupg'),
  };
  await Promise.all([mkdir(dirs.target), mkdir(dirs.tmp), mkdir(dirs.cache), mkdir(dirs.gnupg, { mode: 0o700 })]);
  return { path, dirs, remove: (report) => removeRoot(path, report) };
}

async function mountsBelow(path: string): Promise<string[]> {
  return mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), path);
}

async function removeRoot(path: string, report: (line: string) => void): Promise<void> {
  try {
    for (const point of await mountsBelow(path)) {
      report(`kiwi: unmounting ${point}, left mounted by the build`);
      await runCommand('umount', ['--lazy', point], { timeoutMs: 30_000 }).catch(() => undefined);
    }
    const left = await mountsBelow(path);
    if (left.length > 0) {
      report(`kiwi: not removing ${path}: still mounted below it: ${left.join(', ')}`);
      return;
    }
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    report(`kiwi: could not remove ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
