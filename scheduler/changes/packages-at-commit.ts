/**
 * The packages of a checked-out commit, as change detection needs them: each package
 * directory with the dists it targets. A package whose metadata cannot be read is kept (its
 * build is submitted, so the scheduler reports the metadata error on it), with the dists
 * that can still be made out of its file and of the error.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { throwIfAborted, toBuildfleetError, type BuildfleetError } from '../../shared/errors/index.ts';
import {
  CLOUD_BUILDER_FILE,
  PACKAGE_FILE,
  listPackages,
  loadPackage,
  type DistCache,
} from '../../shared/sources/index.ts';
import { distOfPath, type PackageAtHead } from './plan.ts';

export interface PackageAtCommit extends PackageAtHead {
  /** Why the metadata could not be read; undefined for a valid package. */
  problem?: BuildfleetError;
}

/**
 * Loads every package directory under projects/ of `repoDir` (like loadPackages, but
 * keeping which directory each problem belongs to), sorted by project path.
 */
export async function packagesAtCommit(repoDir: string, signal?: AbortSignal): Promise<PackageAtCommit[]> {
  const distCache: DistCache = new Map();
  const found: PackageAtCommit[] = [];
  for (const project of await listPackages(repoDir)) {
    throwIfAborted(signal);
    try {
      const spec = await loadPackage({ repoDir, packageDir: project, distCache });
      found.push({ project: spec.project, dists: [...new Set(spec.targets.map((target) => target.dist))].sort() });
    } catch (error) {
      const problem = toBuildfleetError(error);
      found.push({ project, dists: await distsOfBrokenPackage(repoDir, project, problem), problem });
    }
  }
  return found;
}

/**
 * Best effort: the `dist` values of the raw targets (`targets` of buildfleet.yml, or
 * `distributions` of the predecessor's file), plus the dist file the error names (a
 * package breaks when a dist it targets is deleted or broken).
 */
async function distsOfBrokenPackage(repoDir: string, project: string, problem: BuildfleetError): Promise<string[]> {
  const dists = new Set<string>();
  const file = problem.context['file'];
  const named = typeof file === 'string' ? distOfPath(file) : undefined;
  if (named !== undefined) dists.add(named);
  for (const [name, listKey] of [
    [PACKAGE_FILE, 'targets'],
    [CLOUD_BUILDER_FILE, 'distributions'],
  ] as const) {
    const data = await readYamlLeniently(join(repoDir, project, name));
    if (data === undefined) continue;
    for (const dist of rawDists(data, listKey)) dists.add(dist);
    break; // buildfleet.yml wins over the predecessor's file, as when loading.
  }
  return [...dists].sort();
}

async function readYamlLeniently(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parse(text, { maxAliasCount: 100 }) ?? null;
  } catch {
    // Not YAML at all: the file exists, but no dist can be made out of it.
    return null;
  }
}

function rawDists(data: unknown, listKey: string): string[] {
  if (typeof data !== 'object' || data === null) return [];
  const list: unknown = (data as Record<string, unknown>)[listKey];
  if (!Array.isArray(list)) return [];
  const dists: string[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const dist: unknown = (item as Record<string, unknown>)['dist'];
    if (typeof dist === 'string' && dist !== '') dists.push(dist);
  }
  return dists;
}
