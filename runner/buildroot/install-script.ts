/**
 * The script that installs a buildroot's packages and creates the build user. The container kind
 * runs it in a Dockerfile RUN step, the chroot kind in an mmdebstrap customize hook, so both
 * kinds get the same packages, the same user and the same error for unknown packages.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INSTALL_MARKERS, watchInstallStep, type InstallPlan } from './install-plan.ts';
import { KEYRING_DIR, sourceLabels, SOURCE_FILES, writeSourceFiles, type PackageSources } from './package-sources.ts';
import { BUILD_PATHS, BUILDER_USER, type BuildrootDist, type BuildrootLineListener } from './types.ts';

/** Files written by writeInstallFiles(); the script finds them beside itself (`sources/` too). */
export const INSTALL_FILES = {
  script: 'install-deps.sh',
  relations: 'relations.txt',
  sources: 'sources',
} as const;

/** Bump when the script changes what a buildroot contains: it is part of every cache key. */
export const INSTALL_RECIPE_VERSION = 3;

const SCRIPT = `#!/bin/sh
# buildfleet: installs a buildroot's packages (run as root, with network, inside the buildroot).
set -eu
here=$(dirname "$0")
export DEBIAN_FRONTEND=noninteractive

# The dist's repositories stay configured; our repositories are local copies, used only here.
install -d -m 0755 ${KEYRING_DIR}
cp -r "$here/sources/keys/." ${KEYRING_DIR}/
chmod -R a+rX ${KEYRING_DIR} "$here/sources"
cp "$here/sources/${SOURCE_FILES.aptList}" /etc/apt/sources.list.d/buildfleet.list
cp "$here/sources/${SOURCE_FILES.ownList}" /etc/apt/sources.list.d/buildfleet-own.list

# A source apt cannot read or verify (a wrong key) is named, not left in a log to read.
status=0
{ apt-get update -q --error-on=any 2>&1 || echo "buildfleet-update-status: $?"; } > "$here/update.log"
cat "$here/update.log"
if grep -q '^buildfleet-update-status:' "$here/update.log"; then
  while IFS= read -r url; do
    [ -n "$url" ] || continue
    why=$(grep -F "$url" "$here/update.log" | grep -E '^(E|W):' | head -n 1 || true)
    if [ -n "$why" ]; then echo "${INSTALL_MARKERS.repositoryFailed} $url $why"; status=4; fi
  done < "$here/sources/${SOURCE_FILES.urls}"
  [ "$status" = 0 ] && status=5
  exit "$status"
fi

# satisfy takes relations as Build-Depends does: versions, alternatives, arch qualifiers.
set --
while IFS= read -r relation; do
  [ -n "$relation" ] && set -- "$@" "$relation"
done < "$here/${INSTALL_FILES.relations}"

# A need nothing satisfies (no such package, or no version that fits) is named, one per line.
if [ $# -gt 0 ] && ! apt-get satisfy -s -q "$@" >/dev/null 2>&1; then
  for relation in "$@"; do
    apt-get satisfy -s -q "$relation" >/dev/null 2>&1 || { echo "${INSTALL_MARKERS.unresolvable} $relation"; status=3; }
  done
  [ "$status" = 0 ] || exit "$status"
fi
if [ $# -gt 0 ]; then apt-get satisfy -y -q --no-install-recommends "$@"; fi
if [ -s "$here/sources/${SOURCE_FILES.ownPackages}" ]; then
  echo "buildfleet: installed from buildfleet's repositories:"
  dpkg-query -W -f='  \${binary:Package} \${Version}\\n' $(cat "$here/sources/${SOURCE_FILES.ownPackages}")
fi
# rpm dists: our own rpms (Debian's rpm knows no dpkg package, hence --nodeps; their signature
# chain was checked by the runner: repomd.xml.asc with gpgv, then each file's sha256).
if ls "$here"/sources/rpms/*.rpm >/dev/null 2>&1; then
  rpm -i --nodeps --nosignature "$here"/sources/rpms/*.rpm
  echo "buildfleet: installed from buildfleet's rpm repositories:"
  rpm -qa --qf '  %{NAME} %{EVR}\\n' | sort
fi
rm -f /etc/apt/sources.list.d/buildfleet-own.list
apt-get clean
rm -rf /var/lib/apt/lists/*

id -u ${BUILDER_USER.name} >/dev/null 2>&1 || \\
  useradd --create-home --home-dir ${BUILDER_USER.home} --uid ${BUILDER_USER.uid} --user-group --shell /bin/sh ${BUILDER_USER.name}
install -d -o ${BUILDER_USER.name} -g ${BUILDER_USER.name} ${BUILD_PATHS.root} ${BUILD_PATHS.src} ${BUILD_PATHS.out}
`;

/** Writes the script, the relation list and `sources/` (see package-sources.ts) into `dir`. */
export async function writeInstallFiles(
  dir: string,
  plan: InstallPlan,
  sources: PackageSources | undefined,
): Promise<void> {
  await writeFile(join(dir, INSTALL_FILES.script), SCRIPT, { mode: 0o755 });
  await writeFile(join(dir, INSTALL_FILES.relations), plan.relations.map((r) => `${r}\n`).join(''));
  await writeSourceFiles(dir, sources);
}

/**
 * Runs the install step (a Dockerfile RUN, an mmdebstrap hook) with its output watched: `step`
 * gets the line listener to give the process, which also forwards every line to `onLine`; when
 * the step fails, the failure its markers name (watchInstallStep) is thrown instead of its own.
 */
export async function runInstallStep<T>(
  options: {
    dist: BuildrootDist;
    neededBy?: string | undefined;
    sources?: PackageSources | undefined;
    onLine?: BuildrootLineListener | undefined;
  },
  step: (onLine: BuildrootLineListener) => Promise<T>,
): Promise<T> {
  const watch = watchInstallStep({
    dist: options.dist,
    neededBy: options.neededBy,
    labels: sourceLabels(options.sources),
  });
  try {
    return await step((line, stream) => {
      watch.onLine(line);
      options.onLine?.(line, stream);
    });
  } catch (error) {
    throw watch.errorFor(error) ?? error;
  }
}
