/**
 * A sources repo of noop packages whose `noop.provides`/`noop.needs` make a random DAG (seeded,
 * so runs compare): packages are spread over `depth` levels, level 0 has no dependencies, and
 * every package of level L > 0 needs one package of level L - 1 (so the longest chain has
 * exactly `depth` packages) plus up to `extraNeeds` of any lower level, and something from
 * the dist's repositories (`gcc`) that makes no edge. Used by test/bench/graph.ts and
 * test/integration/graph.test.ts.
 */
import type { TestGitRepo, TestGitRepos } from '../harness/git.ts';
import { NOOP_DIST_FILE } from './bench-kit.ts';

export interface DagRepoOptions {
  packages: number;
  /** Levels; the longest dependency chain has this many packages. */
  depth: number;
  /** At most this many further needs per package, on random lower levels. @default 3 */
  extraNeeds?: number;
  seed: number;
  /**
   * Only the first package is on level 0, so every other package depends on it transitively
   * (the cascade benchmark changes it). @default false: several packages on level 0
   */
  singleRoot?: boolean;
  /** Noop build time of every package (ms). @default 10 */
  noopMs?: number;
  dist?: string;
}

export interface DagRepo {
  repo: TestGitRepo;
  commit: string;
  projects: string[];
  /** Per project, the projects it needs (the expected edges). */
  needs: Map<string, string[]>;
  dist: string;
}

/** mulberry32: a tiny seeded PRNG, enough for reproducible test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function dagSourcesRepo(repos: TestGitRepos, options: DagRepoOptions): Promise<DagRepo> {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const dist = options.dist ?? 'dag';
  const noopMs = options.noopMs ?? 10;
  const levels: string[][] = Array.from({ length: options.depth }, () => []);
  const projects: string[] = [];
  for (let i = 0; i < options.packages; i++) {
    // The first `depth` packages seed every level, so no level is empty.
    // With a single root, the packages after the first `depth` go to levels 1 and up.
    const lowest = options.singleRoot === true ? 1 : 0;
    const level = i < options.depth ? i : lowest + Math.floor(random() * (options.depth - lowest));
    const project = `projects/dag/p${String(i).padStart(4, '0')}`;
    levels[level]?.push(project);
    projects.push(project);
  }
  const needs = new Map<string, string[]>();
  const files: Record<string, string> = { [`dists/${dist}.yml`]: NOOP_DIST_FILE };
  levels.forEach((members, level) => {
    for (const project of members) {
      const wanted = new Set<string>();
      if (level > 0) {
        wanted.add(pick(levels[level - 1] ?? []));
        const extra = Math.floor(random() * ((options.extraNeeds ?? 3) + 1));
        for (let n = 0; n < extra; n++) wanted.add(pick(levels[Math.floor(random() * level)] ?? []));
      }
      needs.set(project, [...wanted].sort());
      const needNames = [...wanted].map((dependency) => `lib${nameOf(dependency)}-dev`);
      files[`${project}/buildfleet.yml`] =
        `kind: noop\ntargets: [{ dist: ${dist}, arch: x86_64 }]\n` +
        `noop: { ms: ${noopMs}, provides: [lib${nameOf(project)}1, lib${nameOf(project)}-dev], ` +
        `needs: [${[...needNames, 'gcc'].join(', ')}] }\n`;
    }
  });
  const repo = await repos.create('dag-sources');
  await repo.write(files);
  const commit = await repo.commit(`${options.packages} noop packages in a DAG of depth ${options.depth}`);
  return { repo, commit, projects, needs, dist };
}

function nameOf(project: string): string {
  return project.slice(project.lastIndexOf('/') + 1);
}
