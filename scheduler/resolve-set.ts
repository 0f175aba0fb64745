/**
 * Submissions of many packages (issue 12, "mass rebuilds"): scope `dependants` (a package and
 * every package of its dists that builds against it, directly or not) and scope `all` (every
 * package under a directory). The targets come in dependency order per dist, so that the build
 * table finds each dependency's build made before its dependants' and makes them wait for it.
 */
import { BuildfleetError } from '../shared/errors/index.ts';
import { buildKeyOf, type BuildSubmit, type Target } from '../shared/messages/index.ts';
import type { PackageSpec } from '../shared/sources/index.ts';
import {
  affectedBy,
  dependenciesOf,
  inDependencyOrder,
  requireDefinedDists,
  type SourceGraph,
} from '../shared/sources/graph/index.ts';
import type { PlannedDependency, PlannedTarget } from './core/tracked-build.ts';

/** Whether the submission names a set of packages rather than one. */
export function isSetSubmit(submit: BuildSubmit): boolean {
  return submit.scope === 'dependants' || submit.scope === 'all';
}

/**
 * The targets of a set submission at one commit, each with its project, in dependency order per dist.
 * @throws BuildfleetError 'request-invalid' for a dist not defined, 'target-unknown' when the set is empty
 */
export async function targetsOfSet(
  submit: BuildSubmit,
  graph: SourceGraph,
  specOf: (project: string) => Promise<PackageSpec>,
  withDependencies: boolean,
): Promise<PlannedTarget[]> {
  if (submit.dist !== undefined)
    requireDefinedDists(
      [submit.dist],
      graph.dists.map((d) => d.dist),
    );
  const prefix = submit.project === '.' ? '' : `${submit.project.replace(/\/+$/, '')}/`;
  const targets: PlannedTarget[] = [];
  for (const distGraph of graph.dists) {
    if (submit.dist !== undefined && distGraph.dist !== submit.dist) continue;
    const members = new Map<string, number>();
    if (submit.scope === 'all') {
      for (const node of distGraph.nodes) if (node.project.startsWith(prefix)) members.set(node.project, 0);
    } else if (distGraph.nodes.some((n) => n.project === submit.project)) {
      members.set(submit.project, 0);
      for (const affected of affectedBy(distGraph, submit.project, 'transitive')) {
        members.set(affected.project, affected.depth);
      }
    }
    for (const project of inDependencyOrder(distGraph, members)) {
      const spec = await specOf(project);
      for (const declared of spec.targets) {
        if (declared.dist !== distGraph.dist) continue;
        const target = { dist: declared.dist, arch: declared.arch };
        targets.push({
          project,
          target,
          kind: spec.kind,
          runnerGroup: declared.runnerGroup,
          ...(withDependencies ? { dependencies: dependenciesAt(graph, project, target) } : {}),
        });
      }
    }
  }
  if (targets.length === 0) {
    const where = submit.scope === 'all' ? `under ${submit.project}` : `building against ${submit.project}`;
    throw new BuildfleetError(
      'target-unknown',
      `no package ${where}${submit.dist === undefined ? '' : ` has a target of dist ${submit.dist}`} at this ref`,
      { context: { project: submit.project } },
    );
  }
  return targets;
}

/**
 * The builds a target of `project` needs first: for each graph edge of its dist, the dependency's
 * target of the same arch. A dependency without that arch is not built for it: what the dist's
 * repositories or our published repositories have is used.
 */
export function dependenciesAt(graph: SourceGraph, project: string, target: Target): PlannedDependency[] {
  const distGraph = graph.dists.find((d) => d.dist === target.dist);
  if (!distGraph) return [];
  const planned: PlannedDependency[] = [];
  for (const edge of dependenciesOf(graph.dists, target.dist, project)) {
    const node = distGraph.nodes.find((n) => n.project === edge.to);
    if (!node?.arches.includes(target.arch)) continue;
    planned.push({ project: edge.to, buildKey: buildKeyOf(edge.to, target), packages: edge.packages });
  }
  return planned;
}
