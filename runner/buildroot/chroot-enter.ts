/**
 * The command line that runs one build command in a chroot tree: a host shell joins the build's
 * cgroup, `unshare` makes new mount, uts, ipc, pid and network namespaces (the network one has
 * only a loopback interface), a second shell inside them mounts the build's overlay (cached tree
 * below, the build's own upper directory on top), bind-mounts the source and output directories
 * and a fresh /proc, and `chroot --userspec` drops to the build user. All these mounts exist only
 * in the build's mount namespace and vanish with it. Values travel as positional arguments,
 * never pasted into script text.
 */
import { BUILD_PATHS } from './types.ts';

/**
 * Runs on the host; $1 root, $2 src, $3 out, $4 uid:gid, $5 network (none|host), $6 $7 $8 the
 * overlay's lower, upper and work directories (empty: root is a plain tree), rest: argv in the chroot.
 */
const HOST_SCRIPT = `set -eu
for procs in \${BUILDFLEET_CGROUP_PROCS:-}; do echo $$ > "$procs"; done
network=$5
net=--net
[ "$network" = host ] && net=
status=0
unshare --mount --uts --ipc --pid $net --fork --kill-child --propagation private -- \\
  /bin/sh -c "$INNER_SCRIPT" buildfleet-ns "$@" || status=$?
exit $status`;

/** Runs inside the new namespaces, still on the host's filesystem; same arguments. */
const INNER_SCRIPT = `set -eu
root=$1 src=$2 out=$3 ids=$4 lower=$6 upper=$7 work=$8
shift 8
if [ -n "$lower" ]; then
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
fi
mount --bind "$src" "$root${BUILD_PATHS.src}"
mount --bind "$out" "$root${BUILD_PATHS.out}"
mount -t proc proc "$root/proc"
[ -d "$root/dev/shm" ] && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
hostname buildroot
# Builds may talk to themselves (test suites); that needs the loopback interface up.
if command -v ip >/dev/null 2>&1; then ip link set lo up 2>/dev/null || true; fi
exec chroot --userspec="$ids" --groups="\${ids#*:}" "$root" /bin/sh -c 'cd "$0" && exec "$@"' "${BUILD_PATHS.src}" "$@"`;

export interface ChrootCommand {
  file: string;
  args: string[];
  /** Environment of the host-side shell (not of the build command). */
  env: Record<string, string>;
}

/** A build's writable view of a cached tree (overlayfs); the directories are on the host. */
export interface TreeOverlay {
  lower: string;
  upper: string;
  work: string;
}

export interface ChrootCommandOptions {
  /** The tree's directory on the host; with `overlay`, the (empty) directory it is mounted on. */
  root: string;
  overlay?: TreeOverlay;
  workdir: string;
  outDir: string;
  uid: number;
  gid: number;
  network: boolean;
  /** The build command's complete environment (the chroot starts from an empty one). */
  env: Record<string, string>;
  cmd: readonly string[];
  procsFiles: readonly string[];
}

export function chrootCommand(options: ChrootCommandOptions): ChrootCommand {
  const envArgs = Object.entries(options.env).map(([name, value]) => `${name}=${value}`);
  return {
    file: '/bin/sh',
    args: [
      '-c',
      HOST_SCRIPT,
      'buildfleet-chroot',
      options.root,
      options.workdir,
      options.outDir,
      `${options.uid}:${options.gid}`,
      options.network ? 'host' : 'none',
      options.overlay?.lower ?? '',
      options.overlay?.upper ?? '',
      options.overlay?.work ?? '',
      // env -i: nothing of the runner's environment reaches the build.
      '/usr/bin/env',
      '-i',
      ...envArgs,
      ...options.cmd,
    ],
    env: { BUILDFLEET_CGROUP_PROCS: options.procsFiles.join(' '), INNER_SCRIPT },
  };
}
