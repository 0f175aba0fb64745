/**
 * Which other packages of the same commit's submissions each submission waits for (issue 11,
 * "Order"): its direct dependencies among them, in any dist. The scheduler makes a build wait for
 * a dependency of its batch even when that dependency's submission arrives later (submissions of
 * different packages go to different partitions, so their order is not kept). A chain of
 * submitted packages is ordered link by link. Only the dependencies are listed, not every package
 * of the commit: a first import of thousands of packages would otherwise repeat the whole list in
 * every submission. Pure.
 */
import { dependenciesOf, type SourceGraph } from '../../shared/sources/graph/index.ts';

/** project -> the submitted projects it needs (sorted); projects that need none of them are left out. */
export function batchesOf(submitted: readonly string[], graph: SourceGraph): Map<string, string[]> {
  const inBatch = new Set(submitted);
  const batches = new Map<string, string[]>();
  for (const project of submitted) {
    const needs = new Set<string>();
    for (const dist of graph.dists) {
      for (const edge of dependenciesOf(graph.dists, dist.dist, project)) {
        if (edge.to !== project && inBatch.has(edge.to)) needs.add(edge.to);
      }
    }
    if (needs.size > 0) batches.set(project, [...needs].sort());
  }
  return batches;
}
