/**
 * Pure: host paths of the runner out of what a build reports. Log lines and error messages go
 * to the bus and the artifact store, where every reader of the build sees them; the runner's
 * work, cache and temp directories tell them about the host and are no use to anyone reading a
 * build log. Each path becomes a placeholder: `/srv/runner/work/<id>-1/repo/x` -> `<build>/repo/x`.
 */

export interface HostPath {
  /** An absolute directory, or a pattern for directories with generated names. */
  path: string | RegExp;
  /** What is written instead: `<build>`, `<work>`, `<cache>`. */
  placeholder: string;
}

/** Scratch directories of build scripts (script-preamble.ts) and kiwi temp roots (kiwi-root.ts) on the host. */
export const GENERATED_HOST_DIRS: readonly HostPath[] = [
  { path: /\/[\w./-]*\/buildfleet-[a-z]+\.[A-Za-z0-9]{6}/, placeholder: '<scratch>' },
  { path: /\/[\w./-]*\/buildfleet-kiwi-[A-Za-z0-9]{6}/, placeholder: '<kiwi-root>' },
];

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A function that replaces every occurrence of the paths (longest first, so the build's own
 * directory wins over the work directory that holds it). A path matches only as a whole
 * directory name: `/w/build` is not replaced in `/w/builds`. Relative or empty paths are ignored.
 */
export function hostPathRedactor(paths: readonly HostPath[]): (text: string) => string {
  const sorted = [...paths]
    .filter((entry) => typeof entry.path !== 'string' || (entry.path.startsWith('/') && entry.path.length > 1))
    .map((entry) => ({
      source: typeof entry.path === 'string' ? escaped(entry.path.replace(/\/+$/, '')) : entry.path.source,
      placeholder: entry.placeholder,
      literal: typeof entry.path === 'string',
    }))
    .sort((a, b) => Number(a.literal) - Number(b.literal) || b.source.length - a.source.length);
  // Generated directories first (they lie below the literal ones), then the literal ones by length.
  const rules = sorted.map((rule) => ({
    pattern: new RegExp(`${rule.source}(?![\\w.-])`, 'g'),
    placeholder: rule.placeholder,
  }));
  return (text) => {
    let result = text;
    for (const rule of rules) result = result.replace(rule.pattern, rule.placeholder);
    return result;
  };
}
