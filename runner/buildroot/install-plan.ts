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
const FORMAT_PACKAGES = {
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

/** Lines the install script prints before failing; see install-script.ts. */
export const INSTALL_MARKERS = {
  /** `buildfleet-unresolvable: <relation>`: neither our repositories nor the dist's satisfy it. */
  unresolvable: 'buildfleet-unresolvable:',
  /** `buildfleet-repository-failed: <url> <apt's line>`: apt could not read or verify that source. */
  repositoryFailed: 'buildfleet-repository-failed:',
} as const;

/** The text after `marker` in `line`, or undefined for any other line. */
function markerText(line: string, marker: string): string | undefined {
  const at = line.indexOf(marker);
  return at < 0 ? undefined : line.slice(at + marker.length).trim();
}

/**
 * Follows the install step's output and turns its markers into the error a build reports:
 * `dependency-unresolvable` naming every relation nothing satisfies, or `buildroot-failed`
 * naming the repository apt could not read or verify (a wrong key). `labels` maps an apt
 * source URL to how users know it (our own repositories are local copies in the step).
 */
export function watchInstallStep(options: {
  dist: BuildrootDist;
  neededBy: string | undefined;
  labels?: ReadonlyMap<string, string>;
}): { onLine(line: string): void; errorFor(cause: unknown): BuildfleetError | undefined } {
  const unresolvable: string[] = [];
  const failedRepositories = new Map<string, string>();
  return {
    onLine(line) {
      const relation = markerText(line, INSTALL_MARKERS.unresolvable);
      if (relation !== undefined && relation !== '' && !unresolvable.includes(relation)) unresolvable.push(relation);
      const failed = markerText(line, INSTALL_MARKERS.repositoryFailed);
      if (failed !== undefined) {
        const [url = '', ...why] = failed.split(' ');
        if (url !== '' && !failedRepositories.has(url)) failedRepositories.set(url, why.join(' '));
      }
    },
    errorFor(cause) {
      if (failedRepositories.size > 0) {
        const named = [...failedRepositories].map(
          ([url, why]) => `${options.labels?.get(url) ?? url}${why === '' ? '' : ` (${why})`}`,
        );
        return new BuildfleetError(
          'buildroot-failed',
          `package repository not usable in the dependency step of ${options.dist.name}: ${named.join('; ')}`,
          {
            retriable: false,
            cause,
            context: { dist: options.dist.name, repositories: [...failedRepositories.keys()] },
          },
        );
      }
      if (unresolvable.length > 0) {
        const by = options.neededBy === undefined ? '' : ` needed by ${options.neededBy}`;
        return new BuildfleetError(
          'dependency-unresolvable',
          `dependency-unresolvable: ${unresolvable.join(', ')}${by} ` +
            `(neither buildfleet's repositories nor the repositories of dist ${options.dist.name} satisfy it)`,
          { retriable: false, cause, context: { dist: options.dist.name, unresolvable } },
        );
      }
      return undefined;
    },
  };
}
