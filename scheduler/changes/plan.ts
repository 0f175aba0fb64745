/**
 * Which packages a new commit of the watched branch rebuilds (DESIGN.md §5). Pure: the
 * watcher (./watcher.ts) gathers the packages at the new commit and the changed paths,
 * and this decides. docs/scheduler-changes.md describes the rules for users.
 */
import { DISTS_DIR } from '../../shared/sources/index.ts';

/** A package directory at the new commit. */
export interface PackageAtHead {
  /** Repo-relative package directory: `projects/demo/hello-deb`. */
  project: string;
  /**
   * Dists the package has targets of. For a package whose metadata cannot be read, the dists
   * that could still be made out of it (possibly none).
   */
  dists: readonly string[];
}

export interface RebuildPlanInput {
  /** The commit being processed (full id). */
  head: string;
  /** Every package directory at `head`; packages deleted since are simply not here. */
  packages: readonly PackageAtHead[];
  /** The commit each package was last submitted at (`built:<project>` cursors); missing = unknown. */
  builtAt: ReadonlyMap<string, string>;
  /**
   * Changed paths from a base commit to `head`, per base commit (the builtAt values). A base
   * that is missing here could not be compared (e.g. it vanished in a force push): its
   * packages build.
   */
  changedSince: ReadonlyMap<string, readonly string[]>;
}

export type RebuildReason =
  /** No last built commit: first start, or a package added since. */
  | { kind: 'never-built' }
  /** The last built commit could not be compared with head. */
  | { kind: 'base-unavailable'; base: string }
  /** A file inside the package directory changed (`paths` lists a few of them). */
  | { kind: 'package-changed'; base: string; paths: string[] }
  /** dists/<dist>.yml of a dist the package targets changed. */
  | { kind: 'dist-changed'; base: string; dists: string[] };

export interface RebuildDecision {
  project: string;
  reason: RebuildReason;
}

/** How many changed paths a decision quotes (for logs). */
const QUOTED_PATHS = 5;

/**
 * The commits to compare with head: the distinct last built commits of the packages,
 * without head itself (nothing changed since it).
 */
export function basesToCompare(input: Pick<RebuildPlanInput, 'head' | 'packages' | 'builtAt'>): string[] {
  const bases = new Set<string>();
  for (const { project } of input.packages) {
    const base = input.builtAt.get(project);
    if (base !== undefined && base !== input.head) bases.add(base);
  }
  return [...bases].sort();
}

/**
 * The packages to rebuild at head, sorted by project: those never built, those whose last
 * built commit cannot be compared, those with a change inside their directory (metadata
 * included) and those targeting a dist whose `dists/<dist>.yml` changed.
 */
export function planRebuilds(input: RebuildPlanInput): RebuildDecision[] {
  const decisions: RebuildDecision[] = [];
  const bySortedProject = [...input.packages].sort((a, b) => compare(a.project, b.project));
  for (const spec of bySortedProject) {
    const reason = rebuildReason(spec, input);
    if (reason !== undefined) decisions.push({ project: spec.project, reason });
  }
  return decisions;
}

function rebuildReason(spec: PackageAtHead, input: RebuildPlanInput): RebuildReason | undefined {
  const base = input.builtAt.get(spec.project);
  if (base === undefined) return { kind: 'never-built' };
  if (base === input.head) return undefined;
  const paths = input.changedSince.get(base);
  if (paths === undefined) return { kind: 'base-unavailable', base };
  const inside = paths.filter((path) => isInside(path, spec.project));
  if (inside.length > 0) return { kind: 'package-changed', base, paths: inside.slice(0, QUOTED_PATHS) };
  const changedDists = new Set(paths.map(distOfPath).filter((dist) => dist !== undefined));
  const dists = [...new Set(spec.dists)].filter((dist) => changedDists.has(dist)).sort();
  if (dists.length > 0) return { kind: 'dist-changed', base, dists };
  return undefined;
}

function isInside(path: string, project: string): boolean {
  return path.startsWith(`${project}/`);
}

/** `dists/bookworm.yml` -> `bookworm`; anything else (deeper paths, other suffixes) -> undefined. */
export function distOfPath(path: string): string | undefined {
  const prefix = `${DISTS_DIR}/`;
  if (!path.startsWith(prefix) || !path.endsWith('.yml')) return undefined;
  const name = path.slice(prefix.length, -'.yml'.length);
  return name === '' || name.includes('/') ? undefined : name;
}

/** Plain code-unit order, the same on every machine (no locale). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One line for logs: `package-changed since 1a2b3c4 (projects/x/a.c)`. */
export function describeReason(reason: RebuildReason): string {
  switch (reason.kind) {
    case 'never-built':
      return 'never built';
    case 'base-unavailable':
      return `last built commit ${short(reason.base)} cannot be compared`;
    case 'package-changed':
      return `package changed since ${short(reason.base)} (${reason.paths.join(', ')})`;
    case 'dist-changed':
      return `dist ${reason.dists.join(', ')} changed since ${short(reason.base)}`;
    default: {
      const unknown: never = reason;
      return String(unknown);
    }
  }
}

function short(commit: string): string {
  return commit.slice(0, 12);
}
