/**
 * Graphs per commit: a commit's files never change, so its graph is computed once. Concurrent
 * callers of one commit share the computation; a failed one is forgotten (the next call tries
 * again); the least recently used graphs beyond `max` are dropped.
 */
import type { SourceGraph } from './types.ts';

export interface GraphCacheOptions {
  /** Graphs kept. @default 16 */
  max?: number;
}

export interface GraphCache {
  get(commit: string, load: () => Promise<SourceGraph>): Promise<SourceGraph>;
  /** Commits held, least recently used first (for tests and metrics). */
  commits(): string[];
}

export function createGraphCache(options: GraphCacheOptions = {}): GraphCache {
  const max = Math.max(1, options.max ?? 16);
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Promise<SourceGraph>>();
  return {
    get(commit, load) {
      const held = entries.get(commit);
      if (held !== undefined) {
        entries.delete(commit);
        entries.set(commit, held);
        return held;
      }
      const pending = load();
      entries.set(commit, pending);
      pending.catch(() => {
        if (entries.get(commit) === pending) entries.delete(commit);
      });
      while (entries.size > max) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      return pending;
    },
    commits: () => [...entries.keys()],
  };
}
