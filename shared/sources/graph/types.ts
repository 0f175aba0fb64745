/**
 * The dependency graph of a sources repo at one commit (DESIGN.md §12 "Graph"): per dist, what
 * each package target provides (binary package names, image names) and needs (build
 * dependencies), and an edge wherever one of our own targets of the same dist provides a need.
 * Everything else a package needs must come from the dist's repositories.
 */
import type { BuildKind } from '../../messages/build-request.ts';
import type { RebuildMode } from '../metadata/schemas.ts';

/** One need of a package: a relation as written, and the names any one of which satisfies it. */
export interface GraphNeed {
  /** As written in the package, normalised: `libfoo-dev (>= 1.2) | libfoo2-dev`, `libfoo-devel >= 1`. */
  relation: string;
  /** Alternatives (deb `a | b`, rpm `(a or b)`): the package names, any one of which satisfies it. */
  names: string[];
}

/** A package's targets of one dist, with what they provide and need. */
export interface GraphNode {
  /** Package directory: `projects/x/libfoo`. */
  project: string;
  dist: string;
  /** The arches the package declares for this dist, sorted. */
  arches: string[];
  kind: BuildKind;
  /** Names this package gives: deb `Package:` stanzas (+ `Provides:`), rpm `%package` names (+ `Provides:`), docker image name, kiwi image name. Sorted. */
  provides: string[];
  needs: GraphNeed[];
  /** False when the package opts out of rebuilds against new builds of its dependencies (`rebuild.onDependencyChange`). @default true */
  rebuildOnDependencyChange?: boolean;
}

/** `from` needs what `to` provides (both of `dist`): `to` is built and published first. */
export interface GraphEdge {
  dist: string;
  /** The dependant's project. */
  from: string;
  /** The dependency's project. */
  to: string;
  /** The names of `to` that satisfy needs of `from`, sorted. */
  packages: string[];
}

export interface DistGraph {
  dist: string;
  /** Sorted by project. */
  nodes: GraphNode[];
  /** Sorted by from, then to. */
  edges: GraphEdge[];
  /** Each cycle once, as the projects along it starting at the smallest: [a, b] means a -> b -> a. */
  cycles: string[][];
  /** The dist's `rebuildDependants` (what a new build of a package rebuilds). @default 'transitive' */
  rebuildDependants?: RebuildMode;
}

export interface SourceGraph {
  /** Sorted by dist name. */
  dists: DistGraph[];
  /** Packages whose metadata or build files could not be read (they are not in the graph). */
  problems: Array<{ project: string; code: string; message: string }>;
}
