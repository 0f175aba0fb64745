/** The dependency graph of a sources repo at one commit (docs/graph.md). */
export type { GraphNeed, GraphNode, GraphEdge, DistGraph, SourceGraph } from './types.ts';
export { graphOf, distGraphOf, dependenciesOf, dependantsOf, whyOf, type ProjectWhy } from './graph.ts';
export { stronglyConnected, cyclesOf } from './cycles.ts';
export { debianProvidesNeeds, rpmProvidesNeeds, rpmNames, type ProvidesNeeds } from './package-names.ts';
export { dockerNeeds, imageName, kiwiProvidesNeeds } from './image-names.ts';
export { loadSourceGraph, providesNeedsOf, requireDefinedDists, type LoadSourceGraphOptions } from './load.ts';
export { createGraphCache, type GraphCache, type GraphCacheOptions } from './cache.ts';
export { affectedBy, inDependencyOrder, type AffectedPackage } from './dependants.ts';
