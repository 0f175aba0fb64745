/** Bootstrapping a Debian root filesystem with mmdebstrap: a tarball (base images) or a directory (chroot trees). */
import { runCommand } from '../../shared/exec/index.ts';
import { BuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import { normalisedBootstrap } from './cache-keys.ts';
import type { BuildrootLineListener, DistBootstrap } from './types.ts';

/** Generous: a cold bootstrap takes 20-60 s, more with many packages or a slow mirror. */
const BOOTSTRAP_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * mmdebstrap's argv; `target` ending in .tar makes a tarball, else a directory. `hooks`: e.g.
 * --customize-hook. Suite and mirror come from a dist file of the sources repository: `--` ends
 * the options, so a suite such as `--setup-hook=...` is a (bad) suite name, not an option.
 */
export function mmdebstrapArgs(bootstrap: DistBootstrap, target: string, hooks: readonly string[] = []): string[] {
  const settings = normalisedBootstrap(bootstrap);
  return [
    `--variant=${settings.variant}`,
    `--components=${settings.components.join(',')}`,
    ...hooks,
    '--',
    settings.suite,
    target,
    settings.mirror,
  ];
}

export interface BootstrapOptions {
  bootstrap: DistBootstrap;
  /** The tarball (`*.tar`) or directory to write. */
  target: string;
  hooks?: readonly string[];
  signal?: AbortSignal;
  onLine?: BuildrootLineListener;
}

/** Runs mmdebstrap; failures other than abort/timeout become 'buildroot-failed' (retriable: mirrors hiccup). */
export async function bootstrapRootfs(options: BootstrapOptions): Promise<void> {
  try {
    await runCommand('mmdebstrap', mmdebstrapArgs(options.bootstrap, options.target, options.hooks), {
      signal: options.signal,
      onLine: options.onLine,
      timeoutMs: BOOTSTRAP_TIMEOUT_MS,
    });
  } catch (error) {
    const mapped = toBuildfleetError(error);
    if (mapped.code === 'aborted' || mapped.code === 'exec-timeout') throw mapped;
    throw new BuildfleetError('buildroot-failed', `bootstrapping ${options.bootstrap.suite}: ${mapped.message}`, {
      cause: error,
      context: mapped.context,
    });
  }
}
