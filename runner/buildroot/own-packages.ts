/**
 * Which of buildfleet's own published packages a buildroot installs, worked out without I/O from
 * the `Packages` indexes of our repositories: the build dependencies that one of our packages
 * satisfies (by name or `Provides:`, versioned relations honoured with Debian version
 * comparison), then, recursively, their `Depends:`/`Pre-Depends:` that our packages satisfy.
 * Only the pool files of these packages are copied into the dependency step (docs/buildroots.md).
 */
import { controlParagraphs } from '../../shared/sources/index.ts';
import { compareDebianVersions } from '../../shared/versions/index.ts';

/** One binary package of one of our apt repositories (a stanza of its Packages index). */
export interface OwnPackage {
  name: string;
  version: string;
  arch: string;
  /** `Provides:` entries; `version` only for a versioned provide (`foo (= 1.0)`). */
  provides: { name: string; version?: string }[];
  /** `Pre-Depends:` then `Depends:`, one relation (alternatives with `|`) per entry. */
  depends: string[];
  /** Path of the .deb relative to the repository root (`pool/main/...`). */
  filename: string;
  sha256: string;
  size: number;
  /** The repository it comes from. */
  repoKey: string;
  /** The build that made the file, when the repository's manifest says. */
  buildId?: string;
}

/** One alternative of a relation: `name[:arch] [(op version)]` (restrictions are ignored). */
interface Alternative {
  name: string;
  op?: string;
  version?: string;
}

const ALTERNATIVE = /^([a-z0-9][a-z0-9+.-]+)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^()\s]+)\s*\))?/;

function alternativesOf(relation: string): Alternative[] {
  const alternatives: Alternative[] = [];
  for (const part of relation.split('|')) {
    const match = ALTERNATIVE.exec(part.trim());
    if (match?.[1] === undefined) continue;
    alternatives.push({
      name: match[1],
      ...(match[2] === undefined || match[3] === undefined ? {} : { op: match[2], version: match[3] }),
    });
  }
  return alternatives;
}

/** Whether `version` satisfies `op wanted` (deb-version(7); `<`/`>` are the old `<=`/`>=`). */
export function versionSatisfies(version: string, op: string, wanted: string): boolean {
  const order = compareDebianVersions(version, wanted);
  switch (op) {
    case '<<':
      return order < 0;
    case '<=':
    case '<':
      return order <= 0;
    case '=':
      return order === 0;
    case '>=':
    case '>':
      return order >= 0;
    case '>>':
      return order > 0;
    default:
      return false;
  }
}

function splitList(field: string | undefined): string[] {
  return (field ?? '')
    .split(',')
    .map((entry) => entry.trim().replace(/\s+/g, ' '))
    .filter((entry) => entry !== '');
}

/**
 * The stanzas of one Packages index as OwnPackages. `buildOf` maps a pool file to the build that
 * made it (the repository manifest's `buildOf`).
 */
export function ownPackagesFromIndex(
  text: string,
  repoKey: string,
  buildOf: Readonly<Record<string, string>> = {},
): OwnPackage[] {
  const packages: OwnPackage[] = [];
  for (const stanza of controlParagraphs(text)) {
    const name = stanza.get('package')?.trim();
    const version = stanza.get('version')?.trim();
    const filename = stanza.get('filename')?.trim();
    const sha256 = stanza.get('sha256')?.trim();
    if (name === undefined || version === undefined || filename === undefined || sha256 === undefined) continue;
    const buildId = buildOf[filename];
    packages.push({
      name,
      version,
      arch: stanza.get('architecture')?.trim() ?? 'all',
      provides: splitList(stanza.get('provides')).flatMap((entry) =>
        alternativesOf(entry).map((a) => ({ name: a.name, ...(a.op === '=' ? { version: a.version } : {}) })),
      ),
      depends: [...splitList(stanza.get('pre-depends')), ...splitList(stanza.get('depends'))],
      filename,
      sha256,
      size: Number(stanza.get('size') ?? 0),
      repoKey,
      ...(buildId === undefined ? {} : { buildId }),
    });
  }
  return packages;
}

function satisfies(pkg: OwnPackage, wanted: Alternative): boolean {
  if (pkg.name === wanted.name) {
    return wanted.op === undefined || versionSatisfies(pkg.version, wanted.op, wanted.version ?? '');
  }
  return pkg.provides.some(
    (provided) =>
      provided.name === wanted.name &&
      (wanted.op === undefined ||
        (provided.version !== undefined && versionSatisfies(provided.version, wanted.op, wanted.version ?? ''))),
  );
}

/** The newest of our packages satisfying one alternative of `relation`, trying alternatives in order. */
function bestFor(relation: string, packages: readonly OwnPackage[]): OwnPackage | undefined {
  for (const alternative of alternativesOf(relation)) {
    const candidates = packages.filter((pkg) => satisfies(pkg, alternative));
    if (candidates.length > 0) {
      return candidates.reduce((best, pkg) => (compareDebianVersions(pkg.version, best.version) > 0 ? pkg : best));
    }
  }
  return undefined;
}

/**
 * Our packages to install for `relations` on Debian arch `arch`, sorted by name: those that
 * satisfy a relation (an alternative one of our packages satisfies is taken, the newest such
 * package), then what their Depends/Pre-Depends need that our packages satisfy. One version
 * per package name. Relations none of ours satisfies are left to apt and the dist's repositories.
 */
export function resolveOwnPackages(
  relations: readonly string[],
  packages: readonly OwnPackage[],
  arch: string,
): OwnPackage[] {
  const usable = packages.filter((pkg) => pkg.arch === arch || pkg.arch === 'all');
  const chosen = new Map<string, OwnPackage>();
  const pending = [...relations];
  for (let relation = pending.shift(); relation !== undefined; relation = pending.shift()) {
    const alternatives = alternativesOf(relation);
    if ([...chosen.values()].some((pkg) => alternatives.some((a) => satisfies(pkg, a)))) continue;
    const best = bestFor(
      relation,
      usable.filter((pkg) => !chosen.has(pkg.name)),
    );
    if (best === undefined) continue;
    chosen.set(best.name, best);
    pending.push(...best.depends);
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Relations that make apt install exactly the chosen versions (never another source's). */
export function pinnedRelations(chosen: readonly OwnPackage[]): string[] {
  return chosen.map((pkg) => `${pkg.name} (= ${pkg.version})`);
}
