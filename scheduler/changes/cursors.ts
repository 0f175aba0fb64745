/**
 * The durable positions of change detection: which commit of the watched branch was
 * processed last, and at which commit each package was last submitted. The scheduler keeps
 * them in the compacted `buildfleet.state` topic (DESIGN.md §2); tests use a Map.
 */

export interface CursorStore {
  /** The commit stored under `name`, or undefined when none was stored. */
  get(name: string): string | undefined;
  /** Stores the entries, in their order; resolves once they are durable. */
  set(entries: Array<{ name: string; commit: string }>): Promise<void>;
}

/** `branch:<branch>`: the last commit of the branch whose changes were submitted. */
export function branchCursor(branch: string): string {
  return `branch:${branch}`;
}

/** `built:<project>`: the last commit the package was submitted at. */
export function builtCursor(project: string): string {
  return `built:${project}`;
}
