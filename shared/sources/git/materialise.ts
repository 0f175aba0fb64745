/**
 * Writes the files of one commit into a directory with `git archive | tar -x`. Chosen over
 * `git worktree add` because it only reads the mirror: concurrent checkouts share no
 * worktree metadata, index or lock, nothing needs pruning when a build directory is
 * deleted, and the build directory holds no .git that points back into the cache.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { BuildfleetError, isBuildfleetError } from '../../errors/index.ts';
import { runCommand } from '../../exec/index.ts';
import { GIT_ENV } from './git-command.ts';
import type { Mirror } from './mirror-store.ts';

// pipefail: a failing git archive must fail the step even though tar, last in the pipe, succeeds.
const ARCHIVE_TO_DIR = 'set -o pipefail; git -C "$1" archive --format=tar "$2" | tar -x -f - --no-same-owner -C "$3"';

export async function writeCommitFiles(
  mirror: Mirror,
  commit: string,
  dest: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const created = await prepareEmptyDir(dest, mirror, commit);
  try {
    await runCommand('bash', ['-c', ARCHIVE_TO_DIR, 'archive', mirror.dir, commit, dest], {
      env: GIT_ENV,
      signal,
      killGraceMs: 2000,
    });
  } catch (error) {
    // Leave no half-written tree a later step could mistake for the sources.
    if (created) await rm(dest, { recursive: true, force: true });
    else await emptyDir(dest);
    if (isBuildfleetError(error, 'aborted')) throw error;
    throw new BuildfleetError(
      'infra-failed',
      `writing commit ${commit} of ${mirror.shownUrl} to ${dest} failed: ${errorText(error)}`,
      { cause: error, context: { url: mirror.shownUrl, commit, dest } },
    );
  }
}

/** Creates `dest`; an existing one must be an empty directory. Returns whether it was created. */
async function prepareEmptyDir(dest: string, mirror: Mirror, commit: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dest, { recursive: true });
    return true;
  }
  if (entries.length > 0) {
    throw new BuildfleetError('internal', `checkout destination ${dest} is not empty`, {
      context: { url: mirror.shownUrl, commit, dest },
    });
  }
  return false;
}

async function emptyDir(dir: string): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [])) await rm(`${dir}/${entry}`, { recursive: true, force: true });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
