/**
 * What a new build of a package makes stale (issue 12): the packages of its dist that build
 * against it, directly or through others, as the dist's `rebuildDependants` says, without those
 * that opt out (`rebuild.onDependencyChange: false`; the cascade does not go on through them).
 * Pure over one dist's graph.
 */
import type { RebuildMode } from '../metadata/schemas.ts';
import { compare } from './cycles.ts';
import type { DistGraph, GraphEdge } from './types.ts';

/** One package to rebuild, and the edges to what it builds against among the rebuilt (and the changed package). */
export interface AffectedPackage {
  project: string;
  /** Distance from the changed package along reverse edges (1: builds against it directly). */
  depth: number;
  /** Its edges to the changed package and to affected packages earlier in the order. */
  needs: GraphEdge[];
}

/**
 * The packages of `graph` a new build of `project` makes rebuild, in dependency order (what a
 * package builds against comes before it; members of a cycle in an arbitrary but fixed order,
 * each needing only the ones before it). `mode` defaults to the dist's `rebuildDependants`.
 */
export function affectedBy(graph: DistGraph, project: string, mode?: RebuildMode): AffectedPackage[] {
  const how = mode ?? graph.rebuildDependants ?? 'transitive';
  if (how === 'none') return [];
  const optedOut = new Set(graph.nodes.filter((n) => n.rebuildOnDependencyChange === false).map((n) => n.project));
  const dependants = new Map<string, GraphEdge[]>();
  const needs = new Map<string, GraphEdge[]>();
  for (const edge of graph.edges) {
    appendTo(dependants, edge.to, edge);
    appendTo(needs, edge.from, edge);
  }
  const depth = new Map<string, number>();
  let frontier = [project];
  for (let level = 1; frontier.length > 0 && (how === 'transitive' || level === 1); level += 1) {
    const next: string[] = [];
    for (const from of frontier) {
      for (const edge of dependants.get(from) ?? []) {
        if (edge.from === project || depth.has(edge.from) || optedOut.has(edge.from)) continue;
        depth.set(edge.from, level);
        next.push(edge.from);
      }
    }
    frontier = next;
  }
  const inSet = (p: string): boolean => p === project || depth.has(p);
  const order = inDependencyOrder(graph, depth);
  const position = new Map(order.map((p, i) => [p, i]));
  return order.map((member) => ({
    project: member,
    depth: depth.get(member) ?? 0,
    needs: (needs.get(member) ?? []).filter(
      (e) => inSet(e.to) && (e.to === project || (position.get(e.to) ?? Infinity) < (position.get(member) ?? 0)),
    ),
  }));
}

/**
 * `members` (projects of `graph`, with a rank each: lower first among equals) in dependency
 * order: what a member builds against among them comes before it (Kahn); members of a cycle
 * follow by rank, then name, each after the members it needs that were placed already.
 */
export function inDependencyOrder(graph: DistGraph, members: ReadonlyMap<string, number>): string[] {
  const dependants = new Map<string, string[]>();
  const pending = new Map<string, number>([...members.keys()].map((p) => [p, 0]));
  for (const edge of graph.edges) {
    if (!members.has(edge.from) || !members.has(edge.to)) continue;
    appendTo(dependants, edge.to, edge.from);
    pending.set(edge.from, (pending.get(edge.from) ?? 0) + 1);
  }
  const byRankThenName = (a: string, b: string): number =>
    (members.get(a) ?? 0) - (members.get(b) ?? 0) || compare(a, b);
  const ready = [...pending]
    .filter(([, n]) => n === 0)
    .map(([p]) => p)
    .sort(byRankThenName);
  const order: string[] = [];
  const placed = new Set<string>();
  const place = (member: string): void => {
    order.push(member);
    placed.add(member);
    for (const dependant of dependants.get(member) ?? []) {
      if (placed.has(dependant)) continue;
      const left = (pending.get(dependant) ?? 0) - 1;
      pending.set(dependant, left);
      if (left === 0) ready.push(dependant);
    }
  };
  const drain = (): void => {
    for (let member = ready.shift(); member !== undefined; member = ready.shift()) {
      if (!placed.has(member)) place(member);
    }
  };
  drain();
  for (;;) {
    const [next] = [...members.keys()].filter((p) => !placed.has(p)).sort(byRankThenName);
    if (next === undefined) break;
    place(next);
    drain();
  }
  return order;
}

function appendTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
