/** The dependency graph of a sources repo at one commit (docs/graph.md). */
export type { GraphNode, GraphEdge, DistGraph, SourceGraph } from './types.ts';
export { graphOf, distGraphOf, dependenciesOf, dependantsOf, whyOf, type ProjectWhy } from './graph.ts';

export { debianProvidesNeeds, rpmProvidesNeeds } from './package-names.ts';
export { dockerNeeds, imageName, kiwiProvidesNeeds } from './image-names.ts';
export { loadSourceGraph, requireDefinedDists } from './load.ts';
export { createGraphCache } from './cache.ts';
export { affectedBy, inDependencyOrder } from './dependants.ts';
