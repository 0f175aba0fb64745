/**
 * Turns a submission into the commit and targets to build: resolves the ref, reads the
 * package's buildfleet.yml and the dists at that commit (a checkout per commit, kept for the
 * next submissions of the same commit, with the dists read from it), and keeps the targets the
 * submission asks for.
 */
import { join } from 'node:path';
import { BuildfleetError } from '../shared/errors/index.ts';
import { buildKeyOf, type BuildSubmit } from '../shared/messages/index.ts';
import { loadPackage, type DistCache, type PackageSpec, type SourceRepo } from '../shared/sources/index.ts';
import { clearCommitCheckouts, createCommitCheckouts } from '../shared/sources/git/commit-checkouts.ts';
import { affectedBy, createGraphCache, loadSourceGraph } from '../shared/sources/graph/index.ts';
import type { ResolvedSubmit } from './core/build-table.ts';
import type { CascadeMember, CascadePlan, CascadeTrigger } from './core/cascade.ts';
import { dependenciesAt, isSetSubmit, targetsOfSet } from './resolve-set.ts';

export interface SubmitResolverOptions {
  sources: SourceRepo;
  url: string;
  /** Ref built when a submission names none. @default 'HEAD' (the repo's default branch) */
  defaultRef?: string;
  /** Checkouts of recent commits live here. */
  workDir: string;
  /** Checkouts kept. @default 8 */
  keepCheckouts?: number;
}

export interface SubmitResolver {
  /**
   * @throws BuildfleetError 'source-unavailable' (retriable), 'source-commit-missing', 'source-path-missing',
   *   'metadata-invalid' (naming file and field), 'target-unknown'
   */
  resolve(submit: BuildSubmit, signal?: AbortSignal): Promise<ResolvedSubmit>;
  /**
   * The rebuilds a published build makes (issue 12): the packages of its dist and arch that build
   * against it, as the dist's `rebuildDependants` says, at the build's commit, in dependency order.
   * @throws BuildfleetError 'source-unavailable' (retriable), 'source-commit-missing'
   */
  cascade(trigger: CascadeTrigger, signal?: AbortSignal): Promise<CascadePlan>;
}

export function createSubmitResolver(options: SubmitResolverOptions): SubmitResolver {
  /**
   * Dists read per kept checkout: a commit's files never change, and reading every target's dist
   * file again for each submission was most of a submission's handling for packages of many targets.
   */
  const dists = new Map<string, DistCache>();
  /** The dependency graph per commit (every package's provides and needs): computed once per commit. */
  const graphs = createGraphCache({ max: options.keepCheckouts ?? 8 });
  const checkouts = createCommitCheckouts({
    sources: options.sources,
    url: options.url,
    dir: join(options.workDir, 'checkouts'),
    keep: options.keepCheckouts ?? 8,
    onRemove: (commit) => {
      dists.delete(commit);
      specs.delete(commit);
    },
  });

  /** Packages read per kept checkout, for cascades (one published build after another reads the same dependants). */
  const specs = new Map<string, Map<string, Promise<PackageSpec>>>();
  function specOf(commit: string, repoDir: string, project: string): Promise<PackageSpec> {
    let known = specs.get(commit);
    if (known === undefined) {
      known = new Map();
      specs.set(commit, known);
    }
    let spec = known.get(project);
    if (spec === undefined) {
      spec = loadPackage({ repoDir, packageDir: project, distCache: distCacheOf(commit) });
      // A failed read is not kept: the next cascade reads again.
      spec.catch(() => known.delete(project));
      known.set(project, spec);
    }
    return spec;
  }

  function distCacheOf(commit: string): DistCache {
    let distCache = dists.get(commit);
    if (distCache === undefined) {
      distCache = new Map();
      dists.set(commit, distCache);
    }
    return distCache;
  }

  return {
    async cascade(trigger, signal) {
      const repoDir = await checkouts.checkout(trigger.commit, signal);
      const graph = await graphs.get(trigger.commit, () => loadSourceGraph(repoDir));
      const { dist, arch } = trigger.target;
      const distGraph = graph.dists.find((d) => d.dist === dist);
      const targets: CascadeMember[] = [];
      const nodes = new Map(distGraph?.nodes.map((n) => [n.project, n]));
      for (const affected of distGraph ? affectedBy(distGraph, trigger.project) : []) {
        if (!nodes.get(affected.project)?.arches.includes(arch)) continue;
        const spec = await specOf(trigger.commit, repoDir, affected.project);
        const declared = spec.targets.find((t) => t.dist === dist && t.arch === arch);
        if (!declared) continue;
        const target = { dist, arch };
        targets.push({
          project: affected.project,
          target,
          kind: spec.kind,
          runnerGroup: declared.runnerGroup,
          dependencies: affected.needs.map((edge) => ({
            project: edge.to,
            buildKey: buildKeyOf(edge.to, target),
            packages: edge.packages,
          })),
        });
      }
      return { commit: trigger.commit, sourceUrl: options.url, targets };
    },
    async resolve(submit, signal) {
      const ref = submit.ref ?? options.defaultRef ?? 'HEAD';
      const commit = await checkouts.resolve(ref, signal);
      const repoDir = await checkouts.checkout(commit, signal);
      const distCache = distCacheOf(commit);
      // A dist without scope dependants or all never gets here: decodeMessage refuses it (submitRuleProblem).
      if (isSetSubmit(submit)) {
        const graph = await graphs.get(commit, () => loadSourceGraph(repoDir));
        const specOfProject = (project: string) => specOf(commit, repoDir, project);
        if (submit.scope === 'dependants') await specOfProject(submit.project);
        const targets = await targetsOfSet(submit, graph, specOfProject, submit.ignoreDeps !== true);
        return { commit, sourceUrl: options.url, targets };
      }
      let spec;
      try {
        spec = await loadPackage({ repoDir, packageDir: submit.project, distCache });
      } catch (error) {
        // A failed read may be passing (a file descriptor limit): the next submission reads again.
        dists.delete(commit);
        throw error;
      }
      const graph = submit.ignoreDeps === true ? undefined : await graphs.get(commit, () => loadSourceGraph(repoDir));
      const declared = spec.targets.map((t) => {
        const target = { dist: t.dist, arch: t.arch };
        return {
          target,
          kind: spec.kind,
          runnerGroup: t.runnerGroup,
          ...(graph ? { dependencies: dependenciesAt(graph, submit.project, target) } : {}),
        };
      });
      if (!submit.targets) return { commit, sourceUrl: options.url, targets: declared };
      const targets = submit.targets.map((wanted) => {
        const found = declared.find((d) => d.target.dist === wanted.dist && d.target.arch === wanted.arch);
        if (!found) {
          throw new BuildfleetError(
            'target-unknown',
            `${spec.metadataFile} declares no target ${wanted.dist}.${wanted.arch} (it declares ${declared
              .map((d) => `${d.target.dist}.${d.target.arch}`)
              .join(', ')})`,
            { context: { project: submit.project } },
          );
        }
        return found;
      });
      return { commit, sourceUrl: options.url, targets };
    },
  };
}

/** Removes checkouts left by an earlier process (they are cheap to make again). */
export async function clearCheckouts(workDir: string): Promise<void> {
  await clearCommitCheckouts(join(workDir, 'checkouts'));
}
