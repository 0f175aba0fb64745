import { BuildfleetError } from '../../shared/errors/index.ts';
import { compareEvr, type Evr } from '../../shared/versions/rpm-version.ts';

/** One rpm file offered to the repository, with the header fields the layout needs. */
export interface RpmPackage extends Evr {
  /** Where the file is now (never modified). */
  path: string;
  name: string;
  /** The rpm's architecture; `src` for a source rpm (rpm's own ARCH tag says the build host's). */
  arch: string;
}

export interface PlannedRpm {
  package: RpmPackage;
  /** Path inside the repository, `<arch>/<name>-<version>-<release>.<arch>.rpm` (source rpms under `src/`). */
  target: string;
}

export interface RpmRepositoryPlan {
  /** What the repository version holds, sorted by target path. */
  files: PlannedRpm[];
  /** Offered packages left out: older than the kept versions, or replaced by a later one with the same file name. */
  dropped: RpmPackage[];
}

export interface RpmPlanOptions {
  /** Versions kept per package name and architecture (newest by epoch:version-release). @default 3 */
  keepVersions?: number;
}

const DEFAULT_KEEP_VERSIONS = 3;

const SOURCE_ARCHES = new Set(['src', 'nosrc']);
// rpm allows more in names, but nothing that could leave the arch directory or hide a file.
const SAFE_FIELD = /^[A-Za-z0-9_+~^][A-Za-z0-9_+~^.-]*$/;

/**
 * Decides which rpm files a repository version holds and where (a pure function):
 * binary packages go to `<arch>/` (`noarch/` included), source packages to `src/`; per name
 * and architecture the newest `keepVersions` epoch:version-release are kept. When two
 * packages would get the same file name, the one later in `packages` wins, so callers list
 * the previous version's files first and new build results after them.
 */
export function planRpmRepository(packages: readonly RpmPackage[], options: RpmPlanOptions = {}): RpmRepositoryPlan {
  const keep = options.keepVersions ?? DEFAULT_KEEP_VERSIONS;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new BuildfleetError('config-invalid', `keepVersions must be a whole number of at least 1, not ${keep}`, {
      context: { key: 'keepVersions', value: keep },
    });
  }

  const byTarget = new Map<string, PlannedRpm>();
  const dropped: RpmPackage[] = [];
  for (const pkg of packages) {
    const target = rpmTargetPath(pkg);
    const earlier = byTarget.get(target);
    if (earlier !== undefined) dropped.push(earlier.package);
    byTarget.set(target, { package: pkg, target });
  }

  const groups = new Map<string, PlannedRpm[]>();
  for (const planned of byTarget.values()) {
    const key = `${planned.package.name}\0${directoryOf(planned.package.arch)}`;
    const group = groups.get(key) ?? [];
    group.push(planned);
    groups.set(key, group);
  }

  const files: PlannedRpm[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => compareEvr(b.package, a.package) || compareText(a.target, b.target));
    files.push(...group.slice(0, keep));
    dropped.push(...group.slice(keep).map((planned) => planned.package));
  }
  files.sort((a, b) => compareText(a.target, b.target));
  return { files, dropped };
}

/** The path of a package inside the repository; throws 'metadata-invalid' for fields unsafe in a file name. */
function rpmTargetPath(pkg: RpmPackage): string {
  for (const field of ['name', 'version', 'release', 'arch'] as const) {
    if (!SAFE_FIELD.test(pkg[field])) {
      throw new BuildfleetError(
        'metadata-invalid',
        `rpm ${field} ${JSON.stringify(pkg[field])} is not usable in a path`,
        {
          context: { path: pkg.path, field, value: pkg[field] },
        },
      );
    }
  }
  if (pkg.epoch !== undefined && (!Number.isInteger(pkg.epoch) || pkg.epoch < 0)) {
    throw new BuildfleetError('metadata-invalid', `rpm epoch ${pkg.epoch} is not a whole number`, {
      context: { path: pkg.path, field: 'epoch', value: pkg.epoch },
    });
  }
  return `${directoryOf(pkg.arch)}/${pkg.name}-${pkg.version}-${pkg.release}.${pkg.arch}.rpm`;
}

function directoryOf(arch: string): string {
  return SOURCE_ARCHES.has(arch) ? 'src' : arch;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
