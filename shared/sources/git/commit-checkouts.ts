/**
 * Checkouts of recent commits of one sources repo, one directory per commit under `dir`, made
 * once per commit (concurrent callers wait for the same one) and kept for the next callers;
 * beyond `keep` the oldest is removed. A commit's files never change, so a kept checkout is
 * always right. Used by the scheduler (reading metadata per submission) and the info service
 * (the graph per commit).
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedLock } from './keyed-lock.ts';
import type { SourceRepo } from './port.ts';
import { isFullCommitId } from './repo-url.ts';
import { pathExists } from '../path-exists.ts';

export interface CommitCheckoutsOptions {
  sources: SourceRepo;
  url: string;
  /** Holds one directory per kept commit; owned by this process. */
  dir: string;
  /** Checkouts kept. @default 8 */
  keep?: number;
  /** Called when a checkout is removed, to drop what was read from it. */
  onRemove?: (commit: string) => void;
}

export interface CommitCheckouts {
  /** The directory holding the files of `commit` (a full id). */
  checkout(commit: string, signal?: AbortSignal): Promise<string>;
  /** The full commit id of `ref` (a commit id is taken as it is). */
  resolve(ref: string, signal?: AbortSignal): Promise<string>;
}

export function createCommitCheckouts(options: CommitCheckoutsOptions): CommitCheckouts {
  const lock = new KeyedLock();
  const recent: string[] = [];
  return {
    checkout(commit, signal) {
      const dest = join(options.dir, commit);
      return lock.run(commit, async () => {
        if (await pathExists(dest)) return dest;
        await mkdir(options.dir, { recursive: true });
        const temp = `${dest}.tmp-${process.pid}-${Date.now()}`;
        await options.sources.checkout({ url: options.url, commit, dest: temp, ...(signal ? { signal } : {}) });
        await rename(temp, dest);
        recent.push(commit);
        while (recent.length > (options.keep ?? 8)) {
          const old = recent.shift();
          if (old) {
            options.onRemove?.(old);
            await rm(join(options.dir, old), { recursive: true, force: true });
          }
        }
        return dest;
      });
    },
    async resolve(ref, signal) {
      if (isFullCommitId(ref)) return ref;
      return options.sources.resolveRef({ url: options.url, ref, ...(signal ? { signal } : {}) });
    },
  };
}

/** Removes checkouts left by an earlier process (they are cheap to make again). */
export async function clearCommitCheckouts(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    await rm(join(dir, name), { recursive: true, force: true });
  }
}
