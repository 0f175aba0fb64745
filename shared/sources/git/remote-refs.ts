/**
 * Choosing the commit a ref name means from `git ls-remote` output, with git's own
 * precedence (gitrevisions(7)): `refs/<ref>`, then `refs/tags/<ref>`, then `refs/heads/<ref>`.
 * Pure, so the rules are tested without a repository.
 */

/** ref name -> commit id; for an annotated tag the commit it points at (the `^{}` line), not the tag object. */
export function parseLsRemote(output: string): Map<string, string> {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line.trim());
    if (match === null) continue;
    const [, id = '', name = ''] = match;
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), id);
    else refs.set(name, id);
  }
  for (const [name, id] of peeled) refs.set(name, id);
  return refs;
}

/** The refs a short name may stand for, most preferred first. */
function candidateRefNames(ref: string): string[] {
  if (ref === 'HEAD') return ['HEAD'];
  if (ref.startsWith('refs/')) return [ref];
  return [`refs/${ref}`, `refs/tags/${ref}`, `refs/heads/${ref}`];
}

/** Patterns for `git ls-remote`: the candidates and their peeled forms (a pattern without `^{}` does not list it). */
export function lsRemotePatterns(ref: string): string[] {
  return candidateRefNames(ref).flatMap((name) => (name === 'HEAD' ? [name] : [name, `${name}^{}`]));
}

export function pickRef(refs: ReadonlyMap<string, string>, ref: string): string | undefined {
  for (const name of candidateRefNames(ref)) {
    const id = refs.get(name);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** 4 to 39 hex digits: what may be an abbreviated commit id rather than a ref name. */
export function looksLikeShortCommitId(ref: string): boolean {
  return /^[0-9a-f]{4,39}$/.test(ref);
}
