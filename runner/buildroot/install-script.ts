/**
 * The script that installs a buildroot's packages and creates the build user. The container kind
 * runs it in a Dockerfile RUN step, the chroot kind in an mmdebstrap customize hook, so both
 * kinds get the same packages, the same user and the same error for unknown packages.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UNKNOWN_PACKAGES_MARKER, type InstallPlan } from './install-plan.ts';
import { BUILD_PATHS, BUILDER_USER } from './types.ts';

/** Files written by writeInstallFiles(); the script finds the lists beside itself. */
export const INSTALL_FILES = {
  script: 'install-deps.sh',
  relations: 'relations.txt',
  names: 'names.txt',
} as const;

/** Bump when the script changes what a buildroot contains: it is part of every cache key. */
export const INSTALL_RECIPE_VERSION = 1;

const SCRIPT = `#!/bin/sh
# buildfleet: installs a buildroot's packages (run as root, with network, inside the buildroot).
set -eu
here=$(dirname "$0")
export DEBIAN_FRONTEND=noninteractive
apt-get update -q

# Check every name first, so one failure names all unknown packages at once.
unknown=""
while IFS= read -r names; do
  [ -n "$names" ] || continue
  found=no
  for name in $names; do
    if apt-cache show --no-all-versions "$name" >/dev/null 2>&1; then found=yes; break; fi
  done
  [ "$found" = yes ] || unknown="$unknown $(echo "$names" | tr ' ' '|')"
done < "$here/${INSTALL_FILES.names}"
if [ -n "$unknown" ]; then
  echo "${UNKNOWN_PACKAGES_MARKER}$unknown"
  exit 3
fi

# satisfy takes relations as Build-Depends does: versions, alternatives, arch qualifiers.
set --
while IFS= read -r relation; do
  [ -n "$relation" ] && set -- "$@" "$relation"
done < "$here/${INSTALL_FILES.relations}"
if [ $# -gt 0 ]; then apt-get satisfy -y -q --no-install-recommends "$@"; fi
apt-get clean
rm -rf /var/lib/apt/lists/*

id -u ${BUILDER_USER.name} >/dev/null 2>&1 || \\
  useradd --create-home --home-dir ${BUILDER_USER.home} --uid ${BUILDER_USER.uid} --user-group --shell /bin/sh ${BUILDER_USER.name}
install -d -o ${BUILDER_USER.name} -g ${BUILDER_USER.name} ${BUILD_PATHS.root} ${BUILD_PATHS.src} ${BUILD_PATHS.out}
`;

/** Writes the script and its two lists into `dir`. */
export async function writeInstallFiles(dir: string, plan: InstallPlan): Promise<void> {
  await writeFile(join(dir, INSTALL_FILES.script), SCRIPT, { mode: 0o755 });
  await writeFile(join(dir, INSTALL_FILES.relations), plan.relations.map((r) => `${r}\n`).join(''));
  await writeFile(join(dir, INSTALL_FILES.names), plan.nameGroups.map((names) => `${names.join(' ')}\n`).join(''));
}
