/**
 * The kiwi builder: `kiwi-ng system build` of the package's KIWI description, then `kiwi-ng
 * result bundle` into the output directory (the image, its `.sha256`, `.packages`, `.verified`
 * and `.changes`). kiwi-ng runs on the runner host as root, not in a buildroot: it needs root,
 * mounts, chroot and the package mirror (docs/builders.md says why not in a container). It gets
 * its own mount and pid namespaces (its mounts and processes end with it), a cgroup with the
 * build's memory and process limits, an environment without the runner's variables, and a temp
 * root that is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { parseKiwiArgs, type PackageSpec } from '../../shared/sources/index.ts';
import { createCgroupLimits } from '../buildroot/cgroup-limits.ts';
import { compileLimits } from '../buildroot/run-settings.ts';
import { collectArtifacts } from './artifacts.ts';
import { FAILURE_TAIL_LINES } from './build-step.ts';
import {
  displayedLine,
  KIWI_TAIL_LINES,
  kiwiArtifactKindOf,
  kiwiBuildArgs,
  kiwiBundleArgs,
  kiwiBundleId,
  kiwiErrorOf,
  unameArchOf,
} from './kiwi-plan.ts';
import { LineTail } from './line-tail.ts';
import { createKiwiRoot, type KiwiRoot } from './kiwi-root.ts';
import type { Builder, CollectedArtifact, KiwiBuildContext } from './types.ts';

export interface KiwiBuilderOptions {
  /**
   * Parent of each build's temp root, where kiwi-ng builds the image root: it needs room (an
   * image's whole file system, uncompressed) and must not be a tmpfs of little memory.
   * @default '/var/tmp' (kiwi-ng's own default)
   */
  tempDir?: string;
  /** The kiwi-ng program. @default 'kiwi-ng' */
  kiwiCommand?: string;
  /**
   * kiwi-ng runs as root on the runner host (no buildroot): builds run only when the runner
   * group allows it (runner.allowHostBuilds, whose schema comment states the risk). @default false
   */
  allowHostBuilds?: boolean;
}

/** The refusal when runner.allowHostBuilds is off: what the build's failure event says. */
export const HOST_BUILDS_REFUSED =
  'this runner group does not allow host builds; KIWI runs as root on the host: ' +
  'set runner.allowHostBuilds on a dedicated runner group';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Every exit code is a result here: the builder turns a non-zero one into 'build-failed'. */
const ANY_EXIT_CODE = Array.from({ length: 256 }, (_, code) => code);
/**
 * Joins the cgroup, then starts kiwi-ng in new mount and pid namespaces (`--mount-proc`: a /proc
 * of its own). `--kill-child`: when unshare is killed (cancel, time limit), so is everything
 * in the namespace, and with the last process the namespace's mounts go away.
 */
const START_SCRIPT = `set -eu
for procs in \${BUILDFLEET_CGROUP_PROCS:-}; do echo $$ > "$procs"; done
unset BUILDFLEET_CGROUP_PROCS
exec unshare --mount --pid --fork --kill-child --mount-proc --propagation private -- "$@"`;

/**
 * SIGTERM does not stop kiwi-ng here: unshare ignores it while it waits, and kiwi-ng is the init
 * of its pid namespace, which gets no signal it has no handler for. The SIGKILL that follows
 * does (and --kill-child takes the namespace with it); nothing of the temp root is worth a
 * graceful stop, so it follows soon.
 */
const KILL_GRACE_MS = 500;

/** A runner that cannot run kiwi-ng (not root, kiwi-ng missing, another arch): not the package's fault. */
function unsupported(message: string, context: Record<string, unknown> = {}): BuildfleetError {
  return new BuildfleetError('kind-unsupported', message, { context: { kind: 'kiwi', ...context } });
}

async function checkRunner(ctx: KiwiBuildContext, kiwiCommand: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw unsupported('kiwi builds need a runner running as root (kiwi-ng mounts file systems and uses chroot)');
  }
  const host = unameArchOf(process.arch);
  if (ctx.target.arch !== host) {
    throw unsupported(`kiwi-ng builds images for the runner's own arch (${host}), not ${ctx.target.arch}`, {
      arch: ctx.target.arch,
    });
  }
  try {
    const version = await runCommand(kiwiCommand, ['--version'], { timeoutMs: 60_000, signal: ctx.signal });
    ctx.onLine(`kiwi: ${version.stdout.trim()}`, 'stdout');
  } catch (error) {
    throwIfAborted(ctx.signal);
    throw unsupported(`${kiwiCommand} cannot be run on this runner (infra/install.sh installs Debian's kiwi)`, {
      cause: error instanceof Error ? error.message : String(error),
    });
  }
}

function descriptionOf(pkg: PackageSpec): { file: string; profiles: string[]; args: string[] } {
  const file = pkg.files.kiwiDescription;
  if (file === undefined) throw metadataInvalid(pkg, `${pkg.project} has no config.xml or *.kiwi`);
  const args = parseKiwiArgs(pkg.kiwi.args);
  if ('reason' in args) throw metadataInvalid(pkg, `field "kiwi.args[${args.index}]" ${args.reason}`);
  return { file, profiles: pkg.kiwi.profiles, args: pkg.kiwi.args };
}

function metadataInvalid(pkg: PackageSpec, problem: string): BuildfleetError {
  return new BuildfleetError('metadata-invalid', `${pkg.metadataFile}: ${problem}`, {
    context: { file: pkg.metadataFile },
  });
}

async function build(ctx: KiwiBuildContext, options: Required<KiwiBuilderOptions>): Promise<void> {
  throwIfAborted(ctx.signal);
  if (!options.allowHostBuilds) {
    throw new BuildfleetError('kind-unsupported', HOST_BUILDS_REFUSED, {
      retriable: false,
      context: { kind: 'kiwi', setting: 'runner.allowHostBuilds' },
    });
  }
  const description = descriptionOf(ctx.pkg);
  await checkRunner(ctx, options.kiwiCommand);
  const limits = compileLimits(ctx.limits);
  const deadline = Date.now() + limits.timeoutMs;
  const cgroup = await createCgroupLimits(`kiwi-${randomBytes(6).toString('hex')}`, {
    memoryBytes: limits.memoryBytes,
    pids: limits.pids,
  });
  if (!cgroup.ok) ctx.onLine(`kiwi: no memory and pids limits (${cgroup.reason})`, 'stderr');
  let root: KiwiRoot | undefined;
  try {
    root = await createKiwiRoot(options.tempDir);
    const env = {
      PATH,
      HOME: '/root',
      LANG: 'C.UTF-8',
      TMPDIR: root.dirs.tmp,
      GNUPGHOME: root.dirs.gnupg,
    };
    const args = kiwiBuildArgs({
      descriptionDir: ctx.srcDir,
      descriptionFile: description.file,
      profiles: description.profiles,
      args: description.args,
      dirs: root.dirs,
    });
    ctx.onLine(`kiwi: ${options.kiwiCommand} ${args.join(' ')}`, 'stdout');
    const tail = new LineTail(KIWI_TAIL_LINES);
    const result = await runCommand('/bin/sh', ['-c', START_SCRIPT, 'buildfleet-kiwi', options.kiwiCommand, ...args], {
      cwd: root.path,
      env: { ...env, BUILDFLEET_CGROUP_PROCS: cgroup.ok ? cgroup.limits.procsFiles.join(' ') : '' },
      extendEnv: false,
      signal: ctx.signal,
      timeoutMs: Math.max(1, deadline - Date.now()),
      onLine: (raw, stream) => {
        const line = displayedLine(raw);
        tail.push(line);
        ctx.onLine(line, stream);
      },
      okExitCodes: ANY_EXIT_CODE,
      keepOutputChars: 4096,
      killGraceMs: KILL_GRACE_MS,
    });
    if (result.exitCode !== 0) throw buildFailed(ctx, 'kiwi-ng system build', result.exitCode, tail.snapshot());

    const bundle = await runCommand(
      options.kiwiCommand,
      kiwiBundleArgs({ targetDir: root.dirs.target, bundleDir: ctx.outDir, id: kiwiBundleId(ctx.build) }),
      {
        env,
        extendEnv: false,
        signal: ctx.signal,
        timeoutMs: Math.max(1, deadline - Date.now()),
        onLine: (raw, stream) => ctx.onLine(displayedLine(raw), stream),
        okExitCodes: ANY_EXIT_CODE,
        keepOutputChars: 16_384,
      },
    );
    if (bundle.exitCode !== 0) {
      throw buildFailed(ctx, 'kiwi-ng result bundle', bundle.exitCode, bundle.stdout.split('\n').map(displayedLine));
    }
    const images = (await collectKiwiArtifacts(ctx.outDir)).filter((file) => file.kind === 'image');
    if (images.length === 0) {
      throw new BuildfleetError('build-failed', `kiwi-ng made no image file (${ctx.pkg.project})`, {
        context: { tool: 'kiwi-ng', exitCode: 0, project: ctx.pkg.project },
      });
    }
    ctx.onLine(`kiwi: image ${images.map((file) => file.name).join(', ')}`, 'stdout');
  } finally {
    await root?.remove((line) => ctx.onLine(line, 'stderr'));
    if (cgroup.ok) await cgroup.limits.remove();
  }
}

/** KIWI's own error line when the log has one, else the last lines of the log. */
function buildFailed(ctx: KiwiBuildContext, tool: string, exitCode: number, lines: string[]): BuildfleetError {
  const kiwiError = kiwiErrorOf(lines);
  const lastLines = lines.slice(-FAILURE_TAIL_LINES);
  const reason = kiwiError ?? `last lines of the log:\n${lastLines.join('\n')}`;
  return new BuildfleetError(
    'build-failed',
    `${tool} failed with exit code ${exitCode} (${ctx.pkg.project}): ${reason}`,
    {
      context: { tool, exitCode, project: ctx.pkg.project, kiwiError: kiwiError ?? null, lastLines },
    },
  );
}

/** Every file of the bundle; an image is a file KIWI wrote a `.sha256` for. */
export async function collectKiwiArtifacts(outDir: string): Promise<CollectedArtifact[]> {
  const files = await collectArtifacts(outDir);
  const names = new Set(files.map((file) => file.name));
  return files.map((file) => ({ ...file, kind: kiwiArtifactKindOf(file.name, names) }));
}

export function createKiwiBuilder(options: KiwiBuilderOptions = {}): Builder<KiwiBuildContext> {
  const settings: Required<KiwiBuilderOptions> = {
    tempDir: options.tempDir ?? '/var/tmp',
    kiwiCommand: options.kiwiCommand ?? 'kiwi-ng',
    allowHostBuilds: options.allowHostBuilds ?? false,
  };
  return {
    kind: 'kiwi',
    // kiwi-ng makes its own root tree from the description's repositories.
    needsBuildroot: false,
    buildDeps: async () => [],
    build: (ctx) => build(ctx, settings),
    collect: collectKiwiArtifacts,
  };
}
