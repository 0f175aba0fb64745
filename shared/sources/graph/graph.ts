/**
 * The dependency graph of one commit from its nodes (pure). An edge A -> B (same dist) exists
 * where a need name of A is provided by B; B is then built and published before A. Edges go by
 * name only: a versioned relation (`libfoo-dev (>= 2)`) makes the same edge as an unversioned
 * one, and versions are honoured when the buildroot installs the dependency. A package never
 * depends on itself (its own names satisfy nothing in the graph).
 */
import { compare, cyclesOf } from './cycles.ts';
import type { DistGraph, GraphEdge, GraphNode } from './types.ts';

/** One DistGraph per dist the nodes name, sorted by dist. */
export function graphOf(nodes: readonly GraphNode[]): DistGraph[] {
  const byDist = new Map<string, GraphNode[]>();
  for (const node of nodes) {
    const list = byDist.get(node.dist) ?? [];
    list.push(node);
    byDist.set(node.dist, list);
  }
  return [...byDist.keys()].sort(compare).map((dist) => distGraphOf(dist, byDist.get(dist) ?? []));
}

/** The graph of one dist; nodes of other dists are ignored. */
export function distGraphOf(dist: string, all: readonly GraphNode[]): DistGraph {
  const nodes = all
    .filter((node) => node.dist === dist)
    .map(normaliseNode)
    .sort((a, b) => compare(a.project, b.project));
  const providers = new Map<string, string[]>();
  for (const node of nodes) {
    for (const name of node.provides) {
      const list = providers.get(name) ?? [];
      list.push(node.project);
      providers.set(name, list);
    }
  }
  const edges: GraphEdge[] = [];
  const next = new Map<string, string[]>();
  for (const node of nodes) {
    const packagesTo = new Map<string, Set<string>>();
    for (const need of node.needs) {
      for (const name of need.names) {
        for (const provider of providers.get(name) ?? []) {
          if (provider === node.project) continue;
          const names = packagesTo.get(provider) ?? new Set<string>();
          names.add(name);
          packagesTo.set(provider, names);
        }
      }
    }
    const targets = [...packagesTo.keys()].sort(compare);
    next.set(node.project, targets);
    for (const to of targets) {
      edges.push({ dist, from: node.project, to, packages: [...(packagesTo.get(to) ?? [])].sort(compare) });
    }
  }
  const projects = nodes.map((node) => node.project);
  return { dist, nodes, edges, cycles: cyclesOf(projects, next) };
}

function normaliseNode(node: GraphNode): GraphNode {
  return {
    ...node,
    arches: [...new Set(node.arches)].sort(compare),
    provides: [...new Set(node.provides)].sort(compare),
  };
}

function distOf(graph: readonly DistGraph[], dist: string): DistGraph | undefined {
  return graph.find((candidate) => candidate.dist === dist);
}

/** What `project` needs of our own packages in `dist`: its outgoing edges, sorted by dependency. */
export function dependenciesOf(graph: readonly DistGraph[], dist: string, project: string): GraphEdge[] {
  return distOf(graph, dist)?.edges.filter((edge) => edge.from === project) ?? [];
}

/** What needs `project` in `dist`: the incoming edges, sorted by dependant. */
export function dependantsOf(graph: readonly DistGraph[], dist: string, project: string): GraphEdge[] {
  return distOf(graph, dist)?.edges.filter((edge) => edge.to === project) ?? [];
}

/** Why a project waits and who waits for it, in one dist (`buildfleet graph --why`). */
export interface ProjectWhy {
  dist: string;
  project: string;
  /** What the project provides in this dist. */
  provides: string[];
  /** Its edges to our packages it needs. */
  dependencies: GraphEdge[];
  /** Edges of packages that need it. */
  dependants: GraphEdge[];
  /** Needs that none of our packages of this dist provides: they come from the dist's repositories. */
  external: string[];
  /** The cycles it is part of. */
  cycles: string[][];
}

/** `--why` for every dist the project is in (empty when it is in none). */
export function whyOf(graph: readonly DistGraph[], project: string): ProjectWhy[] {
  const answers: ProjectWhy[] = [];
  for (const dist of graph) {
    const node = dist.nodes.find((candidate) => candidate.project === project);
    if (node === undefined) continue;
    const provided = new Set(dist.nodes.flatMap((other) => (other.project === project ? [] : other.provides)));
    answers.push({
      dist: dist.dist,
      project,
      provides: node.provides,
      dependencies: dependenciesOf(graph, dist.dist, project),
      dependants: dependantsOf(graph, dist.dist, project),
      external: node.needs.filter((need) => !need.names.some((name) => provided.has(name))).map((n) => n.relation),
      cycles: dist.cycles.filter((cycle) => cycle.includes(project)),
    });
  }
  return answers;
}
