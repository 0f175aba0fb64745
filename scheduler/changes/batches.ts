/**
 * Which other packages of the same commit's submissions each submission waits for (issue 11,
 * "Order"): its dependencies among them, transitively, in any dist. The scheduler makes a build
 * wait for a dependency of its batch even when that dependency's submission arrives later
 * (submissions of different packages go to different partitions, so their order is not kept).
 * Only the dependencies are listed, not every package of the commit: a first import of thousands
 * of packages would otherwise repeat the whole list in every submission. Pure.
 */
import { dependenciesOf, type SourceGraph } from '../../shared/sources/graph/index.ts';

/** project -> the submitted projects it needs first (sorted); projects that need none are left out. */
export function batchesOf(submitted: readonly string[], graph: SourceGraph): Map<string, string[]> {
  const inBatch = new Set(submitted);
  const direct = new Map<string, Set<string>>();
  for (const project of submitted) {
    const needs = new Set<string>();
    for (const dist of graph.dists) {
      for (const edge of dependenciesOf(graph.dists, dist.dist, project)) {
        if (edge.to !== project) needs.add(edge.to);
      }
    }
    direct.set(project, needs);
  }
  const batches = new Map<string, string[]>();
  for (const project of submitted) {
    // Through packages that were not submitted too: a -> b (unchanged) -> c (changed) still orders a after c.
    const seen = new Set<string>();
    const stack = [...(direct.get(project) ?? neighbours(graph, project))];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (next === project || seen.has(next)) continue;
      seen.add(next);
      stack.push(...(direct.get(next) ?? neighbours(graph, next)));
    }
    const batch = [...seen].filter((p) => inBatch.has(p)).sort();
    if (batch.length > 0) batches.set(project, batch);
  }
  return batches;
}

function neighbours(graph: SourceGraph, project: string): Set<string> {
  const found = new Set<string>();
  for (const dist of graph.dists)
    for (const edge of dependenciesOf(graph.dists, dist.dist, project)) found.add(edge.to);
  return found;
}
