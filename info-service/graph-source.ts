/**
 * The dependency graph the info service answers on `GET /api/graph` (docs/graph.md): the sources
 * repo's ref resolved to a commit, that commit checked out once (shared/sources commit
 * checkouts) and its graph computed once (the graph cache).
 */
import { join } from 'node:path';
import type { Logger } from '../shared/log/index.ts';
import {
  createGraphCache,
  createSourceMirror,
  loadSourceGraph,
  requireDefinedDists,
  type DistGraph,
  type SourceGraph,
  type SourceRepo,
} from '../shared/sources/index.ts';
import { createCommitCheckouts } from '../shared/sources/git/commit-checkouts.ts';

export interface GraphSourceOptions {
  url: string;
  /** Ref answered when a request names none. */
  branch: string;
  /** Holds the git mirror and the checkouts. */
  workDir: string;
  logger: Logger;
  /** @default a mirror under workDir */
  sources?: SourceRepo;
  /** Checkouts and graphs kept. @default 4 */
  keep?: number;
}

/** The answer of `GET /api/graph`. */
export interface GraphAnswer {
  commit: string;
  dists: DistGraph[];
  problems: SourceGraph['problems'];
}

export interface GraphSource {
  /**
   * @throws BuildfleetError 'request-invalid' naming `dist` for a dist the commit does not define,
   *   'source-commit-missing' for an unknown ref, 'source-unavailable'
   */
  graph(query: { ref?: string; dists?: string[] }, signal?: AbortSignal): Promise<GraphAnswer>;
}

export function createGraphSource(options: GraphSourceOptions): GraphSource {
  const sources =
    options.sources ?? createSourceMirror({ cacheDir: join(options.workDir, 'git'), logger: options.logger });
  const keep = options.keep ?? 4;
  const checkouts = createCommitCheckouts({ sources, url: options.url, dir: join(options.workDir, 'checkouts'), keep });
  const cache = createGraphCache({ max: keep });
  return {
    async graph(query, signal) {
      const commit = await checkouts.resolve(query.ref ?? options.branch, signal);
      const whole = await cache.get(commit, async () => loadSourceGraph(await checkouts.checkout(commit, signal)));
      if (query.dists === undefined) return { commit, ...whole };
      requireDefinedDists(
        query.dists,
        whole.dists.map((graph) => graph.dist),
      );
      return {
        commit,
        dists: whole.dists.filter((graph) => query.dists?.includes(graph.dist)),
        problems: whole.problems,
      };
    },
  };
}
