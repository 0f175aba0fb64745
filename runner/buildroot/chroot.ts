/**
 * The chroot kind: no container engine, only mmdebstrap, unshare and chroot (root required).
 * prepare() gives the build its own writable view of the cached tree for (dist, dependencies)
 * (an overlay, or a copy where overlayfs does not work); run() enters it in new namespaces without network, in a cgroup with memory and pids limits,
 * as the `builder` user; release() deletes the directory. Unlike the container kind, changes a
 * run makes outside /build/src and /build/out are still there for the next run of the build.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Logger } from '../../shared/log/index.ts';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { KeyedLock } from '../engine/index.ts';
import { createCgroupLimits } from './cgroup-limits.ts';
import { chrootCommand } from './chroot-enter.ts';
import { buildTree, chrootBootstrap, ensureTree, type BuildTree } from './chroot-tree.ts';
import { handOverDirectories } from './hand-over.ts';
import { planInstall } from './install-plan.ts';
import { buildEnvironment, compileLimits } from './run-settings.ts';
import {
  BUILD_PATHS,
  BUILDER_USER,
  type Buildroot,
  type BuildrootRunOptions,
  type PreparedBuildroot,
} from './types.ts';

export interface ChrootBuildrootOptions {
  /** Holds `chroot/<dist>-<key>/`, the cached trees (a few hundred MB each). */
  cacheDir: string;
  /** Where per-build trees go (overlay upper directories or copies). @default <cacheDir>/builds */
  buildsDir?: string;
  /**
   * How a build gets its writable tree: 'auto' mounts an overlay per run when overlayfs works
   * here and copies otherwise; 'copy' always copies (a few hundred MB per build). @default 'auto'
   */
  treeView?: 'auto' | 'copy';
  logger: Logger;
}

const ANY_EXIT_CODE = Array.from({ length: 256 }, (_, code) => code);
const treeLocks = new KeyedLock();

export function createChrootBuildroot(options: ChrootBuildrootOptions): Buildroot {
  const { cacheDir, logger } = options;
  const buildsDir = options.buildsDir ?? join(cacheDir, 'builds');
  for (const [key, path] of [
    ['cacheDir', cacheDir],
    ['buildsDir', buildsDir],
  ] as const) {
    // Overlay mount options and mmdebstrap's copy-in hook split on these characters.
    if (!isAbsolute(path) || /[\s,:]/.test(path)) {
      throw new BuildfleetError(
        'config-invalid',
        `${key} must be an absolute path without blanks, "," or ":": ${path}`,
        {
          context: { key },
        },
      );
    }
  }

  return {
    kind: 'chroot',
    async prepare(prepare): Promise<PreparedBuildroot> {
      const started = performance.now();
      const { dist, signal, onLine } = prepare;
      chrootBootstrap(dist); // fails image dists before any work
      const plan = planInstall(dist, prepare.buildDeps ?? []);
      throwIfAborted(signal);
      const tree = await ensureTree({
        cacheDir,
        dist,
        plan,
        sources: prepare.sources,
        neededBy: prepare.neededBy,
        lock: treeLocks,
        signal,
        onLine,
      });
      if (!tree.reused) logger.info({ tree: tree.path, ms: tree.durationMs }, 'chroot tree made');
      const setupStarted = performance.now();
      const build = await buildTree(tree.path, buildsDir, options.treeView ?? 'auto', signal);
      if (build.overlay === undefined)
        logger.info({ tree: tree.path }, 'chroot buildroot: overlayfs unavailable, tree copied');
      const report = {
        totalMs: Math.round(performance.now() - started),
        base: tree.reused ? ('reused' as const) : ('made' as const),
        deps: tree.reused ? ('reused' as const) : ('made' as const),
        // One mmdebstrap run makes base and dependencies together.
        baseMs: tree.durationMs,
        depsMs: 0,
        setupMs: Math.round(performance.now() - setupStarted),
      };
      let releasing: Promise<void> | undefined;
      return {
        kind: 'chroot',
        environment: build.dir,
        pathsFor: () => ({ src: BUILD_PATHS.src, out: BUILD_PATHS.out }),
        report,
        run: (run) => runInTree(build, run),
        release: () => (releasing ??= rm(build.dir, { recursive: true, force: true })),
      };
    },
  };

  async function runInTree(build: BuildTree, run: BuildrootRunOptions) {
    throwIfAborted(run.signal);
    const limits = compileLimits(run.limits);
    await handOverDirectories(run);
    const cgroupName = `build-${randomBytes(6).toString('hex')}`;
    const cgroup = await createCgroupLimits(cgroupName, { memoryBytes: limits.memoryBytes, pids: limits.pids });
    if (!cgroup.ok) {
      logger.warn({ reason: cgroup.reason }, 'chroot buildroot: no memory and pids limits');
      run.onLine?.(`chroot buildroot: no memory and pids limits (${cgroup.reason})`, 'stderr');
    }
    const asRoot = run.user === 'root';
    const command = chrootCommand({
      root: build.root,
      overlay: build.overlay,
      workdir: run.workdir,
      outDir: run.outDir,
      uid: asRoot ? 0 : BUILDER_USER.uid,
      gid: asRoot ? 0 : BUILDER_USER.gid,
      network: run.network === true,
      env: buildEnvironment(run),
      cmd: run.cmd,
      procsFiles: cgroup.ok ? cgroup.limits.procsFiles : [],
    });
    run.onStarted?.(cgroupName);
    try {
      const result = await runCommand(command.file, command.args, {
        env: command.env,
        signal: run.signal,
        timeoutMs: limits.timeoutMs,
        onLine: run.onLine,
        okExitCodes: ANY_EXIT_CODE,
        keepOutputChars: 4096,
        // PID 1 of the build's pid namespace ignores SIGTERM; SIGKILL soon after is what ends it.
        killGraceMs: 1_500,
      });
      return { exitCode: result.exitCode, durationMs: result.durationMs };
    } catch (error) {
      if (error instanceof BuildfleetError && error.code === 'exec-failed' && error.context['exitCode'] === null) {
        throw new BuildfleetError('buildroot-failed', `chroot run: ${error.message}`, {
          cause: error,
          context: error.context,
        });
      }
      throw error;
    } finally {
      if (cgroup.ok) await cgroup.limits.remove();
    }
  }
}
