/**
 * Chroot trees: one directory per dist and install plan in the cache directory, made by
 * mmdebstrap with the install script as a customize hook (with network, before any build).
 * Every build gets its own writable view: an overlay (the cached tree below, the build's own
 * directory on top; instant) or, where overlayfs does not work, a full copy (`cp -a`, seconds).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../shared/exec/index.ts';
import { BuildfleetError, isBuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import type { KeyedLock } from '../engine/index.ts';
import { chrootTreeName } from './cache-keys.ts';
import type { TreeOverlay } from './chroot-enter.ts';
import type { InstallPlan } from './install-plan.ts';
import { INSTALL_FILES, runInstallStep, writeInstallFiles } from './install-script.ts';
import { bootstrapRootfs } from './mmdebstrap.ts';
import { STEP_DIR, type PackageSources } from './package-sources.ts';
import type { BuildrootDist, BuildrootLineListener, DistBootstrap } from './types.ts';

export interface CachedTree {
  path: string;
  reused: boolean;
  durationMs: number;
}

interface TreeOptions {
  cacheDir: string;
  dist: BuildrootDist;
  plan: InstallPlan;
  /** Package sources beyond the base system's (dist repositories, our own). */
  sources?: PackageSources | undefined;
  /** The project named by a dependency-unresolvable error. */
  neededBy?: string | undefined;
  lock: KeyedLock;
  signal?: AbortSignal;
  onLine?: BuildrootLineListener;
}

/** The cached tree for (dist, plan), made when missing. Made aside and renamed: never half a tree. */
export async function ensureTree(options: TreeOptions): Promise<CachedTree> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const treesDir = join(options.cacheDir, 'chroot');
  const path = join(treesDir, chrootTreeName(options.dist, options.plan, options.sources));
  if (existsSync(path)) return { path, reused: true, durationMs: elapsed() };
  return options.lock.run(path, async () => {
    if (existsSync(path)) return { path, reused: true, durationMs: elapsed() };
    await mkdir(treesDir, { recursive: true });
    const work = await mkdtemp(join(treesDir, '.making-'));
    try {
      await makeTree(options, work, join(work, 'tree'));
      await rename(join(work, 'tree'), path);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return { path, reused: false, durationMs: elapsed() };
  });
}

async function makeTree(options: TreeOptions, work: string, target: string): Promise<void> {
  const filesDir = join(work, 'install');
  await mkdir(filesDir);
  await writeInstallFiles(filesDir, options.plan, options.sources);
  const inChroot = STEP_DIR;
  const files = Object.values(INSTALL_FILES).map((name) => join(filesDir, name));
  await runInstallStep(options, (onLine) =>
    bootstrapRootfs({
      bootstrap: chrootBootstrap(options.dist),
      target,
      // mmdebstrap's hooks run with the host's network and /proc, /dev set up in the tree.
      hooks: [
        `--customize-hook=mkdir -p "$1${inChroot}"`,
        `--customize-hook=copy-in ${files.join(' ')} ${inChroot}`,
        `--customize-hook=chroot "$1" sh ${inChroot}/${INSTALL_FILES.script}`,
        `--customize-hook=rm -rf "$1${inChroot}"`,
      ],
      signal: options.signal,
      onLine,
    }),
  );
}

/** One build's tree: `root` is what is entered; with `overlay`, it is mounted there per run. */
export interface BuildTree {
  /** The build's directory (removed on release). */
  dir: string;
  root: string;
  overlay: TreeOverlay | undefined;
}

/** Makes a build's view of `tree` below `parent`: an overlay when the kernel allows it here, else a copy. */
export async function buildTree(
  tree: string,
  parent: string,
  view: 'auto' | 'copy',
  signal?: AbortSignal,
): Promise<BuildTree> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, 'build-'));
  try {
    const root = join(dir, 'root');
    await mkdir(root);
    if (view === 'auto') {
      const overlay = { lower: tree, upper: join(dir, 'upper'), work: join(dir, 'work') };
      await Promise.all([mkdir(overlay.upper), mkdir(overlay.work)]);
      if (await overlayWorks(overlay, root, signal)) return { dir, root, overlay };
      await Promise.all([rm(overlay.upper, { recursive: true }), rm(overlay.work, { recursive: true })]);
    }
    await copyTree(tree, root, signal);
    return { dir, root, overlay: undefined };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Tries the mount in a throwaway mount namespace (it disappears with the namespace). */
async function overlayWorks(overlay: TreeOverlay, root: string, signal?: AbortSignal): Promise<boolean> {
  const options = `lowerdir=${overlay.lower},upperdir=${overlay.upper},workdir=${overlay.work}`;
  try {
    await runCommand(
      'unshare',
      ['--mount', '--propagation', 'private', 'mount', '-t', 'overlay', 'overlay', '-o', options, root],
      {
        signal,
        timeoutMs: 10_000,
        keepOutputChars: 2048,
      },
    );
    return true;
  } catch (error) {
    if (isBuildfleetError(error, 'aborted')) throw error;
    return false;
  }
}

/** Copies the cached tree into `root` (owners, modes, links and device nodes kept). */
async function copyTree(tree: string, root: string, signal?: AbortSignal): Promise<void> {
  try {
    // `tree/.` copies the contents into the existing directory.
    await runCommand('cp', ['--archive', '--reflink=auto', `${tree}/.`, root], { signal, keepOutputChars: 4096 });
  } catch (error) {
    const mapped = toBuildfleetError(error);
    if (mapped.code === 'aborted') throw mapped;
    throw new BuildfleetError('buildroot-failed', `copying ${tree}: ${mapped.message}`, { cause: error });
  }
}

/**
 * The bootstrap settings a chroot tree is made with. Trees are made by mmdebstrap only: an image
 * dist (`base.image`) needs the container kind.
 * @throws BuildfleetError('kind-unsupported') naming the dist file and the field
 */
export function chrootBootstrap(dist: BuildrootDist): DistBootstrap {
  if (dist.base.kind === 'bootstrap') return dist.base;
  const file = `dists/${dist.name}.yml`;
  throw new BuildfleetError(
    'kind-unsupported',
    `${file}: field "base.image": the chroot buildroot makes its trees with mmdebstrap and cannot start from ` +
      `the image ${dist.base.image}; use a runner with the container buildroot, or base.bootstrap`,
    { context: { file, field: 'base.image', image: dist.base.image } },
  );
}
