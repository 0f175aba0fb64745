/**
 * The shell script of an rpm build: `rpmbuild -ba --nodeps` with its whole tree (_topdir) in a
 * temp dir and the sources taken from the package directory (_sourcedir = BUILDFLEET_SRC, so a
 * Source0 tarball next to the spec is found); binary and source rpms are copied to BUILDFLEET_OUT.
 *
 * --nodeps: in a Debian buildroot rpm's database knows no installed package, so rpm cannot
 * check BuildRequires; the builder installs them as Debian packages instead (rpm-requires.ts).
 * HOME is a fresh directory of the build: neither the ~/.rpmmacros nor the ~/.rpmdb of whoever
 * runs the build (the runner's user on the host kind) affects it; only the system's macros apply.
 *
 * Inputs (environment): BUILDFLEET_SRC, BUILDFLEET_OUT; BUILDFLEET_RPM_SPEC, the spec's path
 * relative to BUILDFLEET_SRC.
 */
import { scratchDirPreamble } from './script-preamble.ts';

export const RPM_BUILD_SCRIPT = `${scratchDirPreamble('top', 'rpm')}mkdir "$top/home" "$top/tmp"
export HOME="$top/home"
echo "buildfleet: rpmbuild -ba --nodeps $BUILDFLEET_RPM_SPEC with _topdir $top"
status=0
rpmbuild -ba --nodeps \\
  --define "_topdir $top" \\
  --define "_sourcedir $BUILDFLEET_SRC" \\
  --define "_tmppath $top/tmp" \\
  "$BUILDFLEET_SRC/$BUILDFLEET_RPM_SPEC" || status=$?
if [ "$status" != 0 ]; then
  echo "buildfleet: rpmbuild exited with code $status" >&2
  exit "$status"
fi
for dir in "$top/RPMS" "$top/SRPMS"; do
  [ -d "$dir" ] || continue
  find "$dir" -type f -name '*.rpm' -exec cp {} "$BUILDFLEET_OUT/" \\; -exec echo "buildfleet: result" {} \\;
done
`;
