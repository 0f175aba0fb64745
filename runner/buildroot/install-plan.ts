/**
 * What gets installed into a buildroot, worked out without I/O: the format's tools, the dist's
 * packages and the build dependencies, as Debian relations for `apt-get satisfy`, plus the
 * package names to check first so unknown ones can be named in the error.
 */
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { BuildrootDist } from './types.ts';

/**
 * Tools each package format needs in every buildroot. rpm dists are Debian-based too: Debian's
 * `rpm` package brings rpmbuild (its rpm database knows nothing of dpkg's packages, so builders
 * run `rpmbuild --nodeps`; BuildRequires are installed here as Debian packages).
 */
export const FORMAT_PACKAGES = {
  deb: ['build-essential', 'dpkg-dev', 'fakeroot'],
  rpm: ['rpm'],
} as const satisfies Record<BuildrootDist['format'], readonly string[]>;

export interface InstallPlan {
  /** Sorted, without duplicates; each one argument of `apt-get satisfy`. */
  relations: string[];
  /** Per relation, the package names of its alternatives (one must exist). */
  nameGroups: string[][];
}

// Debian relation syntax (deb-src-control(5)): name[:arch] [(op version)] [[arch...]] [<profile...>...]
const ALTERNATIVE =
  /^(?<name>[a-z0-9][a-z0-9+.-]+)(?::[a-z0-9-]+)?(?:\s*\(\s*(?:<<|<=|=|>=|>>)\s*[^()\s]+\s*\))?(?:\s*\[[^\][]+\])?(?:\s*<[^<>]+>)*$/;

/** The package names of one relation, or undefined when it is not valid Debian syntax. */
export function relationNames(relation: string): string[] | undefined {
  const names: string[] = [];
  for (const alternative of relation.split('|')) {
    const name = ALTERNATIVE.exec(alternative.trim())?.groups?.['name'];
    if (name === undefined) return undefined;
    names.push(name);
  }
  return names;
}

/**
 * Splits entries on top-level commas (a whole Build-Depends field may be passed as one entry),
 * collapses whitespace, checks the syntax, and sorts. Invalid relations (e.g. an rpm
 * `pkgconfig(zlib)`) fail with 'buildroot-failed' (not retriable) naming all of them.
 */
export function planInstall(dist: BuildrootDist, buildDeps: readonly string[]): InstallPlan {
  const entries = [...FORMAT_PACKAGES[dist.format], ...(dist.packages ?? []), ...buildDeps];
  const relations = new Set<string>();
  const invalid: string[] = [];
  for (const entry of entries) {
    for (const part of entry.split(',')) {
      const relation = part.trim().replace(/\s+/g, ' ');
      if (relation === '') continue;
      if (relationNames(relation) === undefined) invalid.push(relation);
      else relations.add(relation);
    }
  }
  if (invalid.length > 0) {
    throw new BuildfleetError(
      'buildroot-failed',
      `not a Debian package relation: ${invalid.join(', ')} (build dependencies are installed as Debian packages)`,
      { retriable: false, context: { dist: dist.name, invalid } },
    );
  }
  const sorted = [...relations].sort();
  return { relations: sorted, nameGroups: sorted.map((relation) => relationNames(relation) ?? []) };
}

/** The line the install script prints before failing on unknown packages; see install-script.ts. */
export const UNKNOWN_PACKAGES_MARKER = 'buildfleet-unknown-packages:';

/** The relations named by a marker line (`a b|c`), or undefined for any other line. */
export function unknownPackagesIn(line: string): string[] | undefined {
  const at = line.indexOf(UNKNOWN_PACKAGES_MARKER);
  if (at < 0) return undefined;
  return line
    .slice(at + UNKNOWN_PACKAGES_MARKER.length)
    .trim()
    .split(/\s+/)
    .filter((name) => name !== '')
    .map((group) => group.replace(/\|/g, ' | '));
}

/** The error for unknown build dependencies, the same for every kind. */
export function unknownPackagesError(dist: BuildrootDist, unknown: string[], cause: unknown): BuildfleetError {
  return new BuildfleetError(
    'buildroot-failed',
    `build dependencies unknown to apt in ${dist.bootstrap.suite} (${dist.bootstrap.mirror}): ${unknown.join(', ')}`,
    { retriable: false, cause, context: { dist: dist.name, unknown } },
  );
}
