/**
 * Picks the buildroot kind for a runner: the configured one, or with 'auto' the best that works
 * here — container when the engine answers, else chroot when mmdebstrap and unshare work. The
 * host kind is never picked automatically.
 */
import type { Logger } from '../../shared/log/index.ts';
import { BuildfleetError, isBuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { ContainerEngine } from '../engine/index.ts';
import { createChrootBuildroot } from './chroot.ts';
import { createContainerBuildroot, type ContainerBuildrootOptions } from './container.ts';
import { createHostBuildroot } from './host.ts';
import type { HostEnvSource } from './run-settings.ts';
import type { Buildroot, BuildrootKind } from './types.ts';

export interface ChooseBuildrootOptions {
  /** @default 'auto' */
  preferred?: BuildrootKind | 'auto';
  /** The engine for the container kind; without one, 'auto' goes on to chroot. */
  engine?: ContainerEngine;
  /** Base image pulls of the container kind (image dists): policy and credentials. @default none */
  containerPulls?: Pick<ContainerBuildrootOptions, 'basePull' | 'registryAuths'>;
  /** Cache of chroot trees; scratch space of the container kind goes below it too. */
  cacheDir: string;
  /** The host kind's environment source (runner.buildEnvAllow). @default nothing inherited */
  hostEnv?: HostEnvSource;
  logger: Logger;
  signal?: AbortSignal;
}

export type Availability = { ok: true } | { ok: false; reason: string };

/** Whether this process can make and enter chroot trees: root, mmdebstrap, and unshare with a new network. */
async function chrootAvailability(signal?: AbortSignal): Promise<Availability> {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the chroot buildroot needs root' };
  const probes: [string, string[]][] = [
    ['mmdebstrap', ['--version']],
    ['unshare', ['--mount', '--uts', '--ipc', '--pid', '--net', '--fork', '--kill-child', 'true']],
    ['chroot', ['--version']],
  ];
  for (const [file, args] of probes) {
    try {
      await runCommand(file, args, { signal, timeoutMs: 10_000, keepOutputChars: 2048 });
    } catch (error) {
      const mapped = toBuildfleetError(error);
      if (mapped.code === 'aborted') throw mapped;
      return { ok: false, reason: `${file}: ${mapped.message}` };
    }
  }
  return { ok: true };
}

async function engineAvailability(engine: ContainerEngine | undefined, signal?: AbortSignal): Promise<Availability> {
  if (engine === undefined) return { ok: false, reason: 'no container engine configured' };
  try {
    await engine.ping(signal);
    return { ok: true };
  } catch (error) {
    if (isBuildfleetError(error, 'aborted')) throw error;
    return { ok: false, reason: toBuildfleetError(error).message };
  }
}

export async function chooseBuildroot(options: ChooseBuildrootOptions): Promise<Buildroot> {
  const { logger, cacheDir, signal } = options;
  const preferred = options.preferred ?? 'auto';
  const container = (engine: ContainerEngine): Buildroot =>
    createContainerBuildroot({ engine, logger, tmpDir: `${cacheDir}/tmp`, ...options.containerPulls });
  const chroot = (): Buildroot => createChrootBuildroot({ cacheDir, logger });

  switch (preferred) {
    case 'container': {
      const engine = await engineAvailability(options.engine, signal);
      if (!engine.ok || options.engine === undefined) {
        throw new BuildfleetError(
          'engine-unavailable',
          `container buildroot: ${engine.ok ? 'no engine' : engine.reason}`,
        );
      }
      return container(options.engine);
    }
    case 'chroot': {
      const available = await chrootAvailability(signal);
      if (!available.ok) {
        throw new BuildfleetError('buildroot-failed', `chroot buildroot: ${available.reason}`, { retriable: false });
      }
      return chroot();
    }
    case 'host':
      return createHostBuildroot({ logger, ...(options.hostEnv ? { env: options.hostEnv } : {}) });
    case 'auto': {
      const engine = await engineAvailability(options.engine, signal);
      if (engine.ok && options.engine !== undefined) return container(options.engine);
      const available = await chrootAvailability(signal);
      if (available.ok) {
        logger.info(
          { reason: engine.ok ? 'no engine' : engine.reason },
          'buildroot: using chroot, no container engine',
        );
        return chroot();
      }
      throw new BuildfleetError(
        'buildroot-failed',
        `no buildroot works here: container (${engine.ok ? 'no engine' : engine.reason}); chroot (${available.reason}). ` +
          `The host kind must be chosen explicitly.`,
        { retriable: false },
      );
    }
    default: {
      const unknownKind: never = preferred;
      throw new BuildfleetError('config-invalid', `unknown buildroot kind ${String(unknownKind)}`);
    }
  }
}
