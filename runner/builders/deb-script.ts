/**
 * The shell script of a deb build. dpkg-buildpackage writes its results into the parent of the
 * source tree, which is not mounted in a buildroot; so the tree is built in a directory of its
 * own under a temp dir, and the results are copied to BUILDFLEET_OUT. The same script serves all
 * buildroot kinds (on the host kind BUILDFLEET_SRC and BUILDFLEET_OUT are host paths).
 *
 * Inputs (environment): BUILDFLEET_SRC, BUILDFLEET_OUT; BUILDFLEET_DEB_SOURCE, the source
 * package name (the tree's directory name); BUILDFLEET_DEB_DSC, when set, the .dsc (relative to
 * BUILDFLEET_SRC) to unpack with dpkg-source instead of copying a debian/ tree;
 * BUILDFLEET_DEB_CHANGELOG_ENTRY, when set, a changelog stanza put on top (rebuilds).
 */
import { scratchDirPreamble } from './script-preamble.ts';

/** Files dpkg-buildpackage leaves next to the tree that are results: binary and source packages, build records. */
const DEB_RESULT_PATTERNS = [
  '*.deb',
  '*.udeb',
  '*.ddeb',
  '*.dsc',
  '*.tar.*',
  '*.diff.gz',
  '*.buildinfo',
  '*.changes',
] as const;

export const DEB_BUILD_SCRIPT = `${scratchDirPreamble('work', 'deb')}tree="$work/$BUILDFLEET_DEB_SOURCE"
if [ -n "\${BUILDFLEET_DEB_DSC:-}" ]; then
  # Unpacks next to the tree, with the original tarballs copied beside it as dpkg-buildpackage wants them.
  dpkg-source -x "$BUILDFLEET_SRC/$BUILDFLEET_DEB_DSC" "$tree"
else
  mkdir "$tree"
  cp -R -p "$BUILDFLEET_SRC/." "$tree/"
fi
cd "$tree"
if [ -n "\${BUILDFLEET_DEB_CHANGELOG_ENTRY:-}" ]; then
  # A rebuild: its changelog entry (version +b<N>) goes on top.
  printf '%s' "$BUILDFLEET_DEB_CHANGELOG_ENTRY" | cat - debian/changelog > "$work/changelog"
  mv "$work/changelog" debian/changelog
  echo "buildfleet: rebuild: $(head -n 1 debian/changelog)"
fi
# Binary targets need root or a stand-in for it: fakeroot when the build user is not root.
set --
[ "$(id -u)" = 0 ] || set -- -rfakeroot
# A binNMU builds binaries only: its source package is the one published before.
[ -z "\${BUILDFLEET_DEB_CHANGELOG_ENTRY:-}" ] || set -- "$@" -b
echo "buildfleet: dpkg-buildpackage -us -uc $* in $tree"
status=0
dpkg-buildpackage -us -uc "$@" || status=$?
if [ "$status" != 0 ]; then
  echo "buildfleet: dpkg-buildpackage exited with code $status" >&2
  exit "$status"
fi
cd "$work"
for file in ${DEB_RESULT_PATTERNS.join(' ')}; do
  # An unmatched pattern stays as it is written; only existing files are copied.
  [ -f "$file" ] || continue
  cp "$file" "$BUILDFLEET_OUT/"
  echo "buildfleet: result $file"
done
`;
