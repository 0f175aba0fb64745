import { runCommand } from '../../shared/exec/index.ts';
import { BuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import { BUILDER_USER, type BuildrootRunOptions } from './types.ts';

/**
 * Makes the source and output directories writable for the build user (uid 1000): bind mounts
 * keep host ownership, and the runner (root) checked them out. Nothing to do for root builds or
 * when the runner is not root (then it can only hand over what it owns, which is its own uid).
 */
export async function handOverDirectories(run: BuildrootRunOptions): Promise<void> {
  if (run.user === 'root' || process.getuid?.() !== 0) return;
  try {
    await runCommand('chown', ['-R', `${BUILDER_USER.uid}:${BUILDER_USER.gid}`, run.workdir, run.outDir], {
      signal: run.signal,
    });
  } catch (error) {
    const mapped = toBuildfleetError(error);
    if (mapped.code === 'aborted') throw mapped;
    throw new BuildfleetError('buildroot-failed', `handing ${run.workdir} to the build user: ${mapped.message}`, {
      cause: error,
      retriable: false,
      context: { workdir: run.workdir, outDir: run.outDir },
    });
  }
}
