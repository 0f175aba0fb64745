/**
 * Finding the packages of a sources repo: every directory under projects/ that holds
 * buildfleet.yml or .cb/cloud_builder.yml. A package directory is a leaf: directories
 * inside it (debian/, sources) are never taken for packages of their own.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { toBuildfleetError, type BuildfleetError } from '../../errors/index.ts';
import { CLOUD_BUILDER_FILE, PACKAGE_FILE, loadPackage, type DistCache, type PackageSpec } from './package.ts';

const PROJECTS_DIR = 'projects';

export interface PackageScan {
  /** Packages whose metadata is valid, sorted by project path. */
  packages: PackageSpec[];
  /** One error per package that could not be loaded (metadata-invalid naming its file). */
  problems: BuildfleetError[];
}

/** Repo-relative paths of all package directories, sorted: `projects/demo/hello`, ... */
export async function listPackages(repoDir: string): Promise<string[]> {
  const found: string[] = [];
  await walk(repoDir, PROJECTS_DIR, found);
  return found.sort();
}

/** Loads every package; a broken one is reported in `problems` and does not stop the others. */
export async function loadPackages(repoDir: string): Promise<PackageScan> {
  const distCache: DistCache = new Map();
  const scan: PackageScan = { packages: [], problems: [] };
  for (const packageDir of await listPackages(repoDir)) {
    try {
      scan.packages.push(await loadPackage({ repoDir, packageDir, distCache }));
    } catch (error) {
      scan.problems.push(toBuildfleetError(error));
    }
  }
  return scan;
}

/**
 * The packages with at least one target of `dist` (whole, with all their targets), e.g. to
 * rebuild them when dists/<dist>.yml changes. Problems are those of every package: a
 * package whose metadata cannot be read may target the dist too.
 */
export async function packagesOfDist(repoDir: string, dist: string): Promise<PackageScan> {
  const scan = await loadPackages(repoDir);
  return {
    packages: scan.packages.filter((spec) => spec.targets.some((target) => target.dist === dist)),
    problems: scan.problems,
  };
}

async function walk(repoDir: string, relative: string, found: string[]): Promise<void> {
  const dir = join(repoDir, relative);
  if (relative !== PROJECTS_DIR && (await isPackageDir(dir))) {
    found.push(relative);
    return;
  }
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // Symbolic links are not followed (isDirectory() is false for them): no loops, nothing outside the repo.
  for (const entry of entries) {
    if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(repoDir, `${relative}/${entry.name}`, found);
  }
}

async function isPackageDir(dir: string): Promise<boolean> {
  for (const file of [PACKAGE_FILE, CLOUD_BUILDER_FILE]) {
    try {
      if ((await stat(join(dir, file))).isFile()) return true;
    } catch {
      // Not this one.
    }
  }
  return false;
}
