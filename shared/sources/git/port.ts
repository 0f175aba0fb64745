/**
 * The SourceRepo port (DESIGN.md §5, §6): what the runner and the scheduler need from the
 * git repository holding the sources, in their words. One adapter: the cached mirror in
 * ./mirror.ts.
 */

export interface CheckoutRequest {
  /** URL of the sources repo (https://, ssh://, git://, file://, or an absolute path). */
  url: string;
  /** Full commit id (40 hex digits). Branch names and short ids are refused: a build names its commit. */
  commit: string;
  /** Directory that receives the files of the commit; must not exist or be empty. */
  dest: string;
  signal?: AbortSignal;
}

export interface CheckoutResult {
  /** The directory holding the files (the `dest` given). */
  dir: string;
  /** The commit whose files are in `dir`. */
  commit: string;
  /** Whole time taken, waiting for and fetching included. */
  durationMs: number;
  /** True when the commit had to be fetched (it was not in the mirror yet). */
  fetched: boolean;
}

export interface ResolveRefRequest {
  url: string;
  /** Branch, tag, `HEAD`, full ref (`refs/heads/main`), or commit id (full or abbreviated). @default 'HEAD' */
  ref?: string;
  signal?: AbortSignal;
}

export interface ChangedPathsRequest {
  url: string;
  /** Older commit (full id). */
  from: string;
  /** Newer commit (full id). */
  to: string;
  signal?: AbortSignal;
}

export interface SourceRepo {
  /**
   * Puts the files of exactly `commit` into `dest` (no .git directory).
   * @throws BuildfleetError 'source-commit-missing' (not a full id, or the repo has no such commit),
   *   'source-unavailable' (the repo cannot be reached; retriable), 'aborted'
   */
  checkout(request: CheckoutRequest): Promise<CheckoutResult>;
  /**
   * The full commit id a ref points to now. Tags resolve to the commit they point at.
   * @throws BuildfleetError 'source-commit-missing' (no such ref or commit), 'source-unavailable', 'aborted'
   */
  resolveRef(request: ResolveRefRequest): Promise<string>;
  /**
   * Repo-relative paths that differ between two commits (added, modified, deleted; a rename
   * lists both the old and the new path), sorted.
   * @throws like checkout
   */
  changedPaths(request: ChangedPathsRequest): Promise<string[]>;
}
