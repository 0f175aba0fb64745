/**
 * Package sources of a buildroot's dependency step beyond the base system's own: the dist's
 * repositories (apt sources with `signed-by=` their key) and local copies of buildfleet's own
 * repositories (`file:` sources with `signed-by=` buildfleet's key, so apt checks InRelease and
 * every hash itself). The runner gathers them (runner/job/package-sources.ts); the install
 * script (install-script.ts) puts them in place. docs/buildroots.md, "The dependency step".
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the install files are inside the dependency step (container RUN or chroot hook). */
export const STEP_DIR = '/tmp/buildfleet';
/** Keys stay in the buildroot (the dist's sources stay configured). */
export const KEYRING_DIR = '/etc/apt/keyrings/buildfleet';

/** A dist repository as an apt source; `keyFile` is a file name in `dir/keys`. */
export interface AptSource {
  url: string;
  suite: string;
  components: readonly string[];
  keyFile?: string;
  /** sha256 of the key file (cache key input). */
  keySha256?: string;
}

/** A local copy of one of our repositories below `dir/own/<dir>`, signed with the key `keyFile` (in `dir/keys`). */
export interface OwnSource {
  repoKey: string;
  dir: string;
  suite: string;
  keyFile: string;
  keySha256: string;
}

/** One of our packages installed into the buildroot. */
export interface InstalledOwnPackage {
  name: string;
  version: string;
  sha256: string;
  repoKey: string;
  buildId?: string;
}

export interface PackageSources {
  /** Host directory with `keys/` and `own/`; copied into the step as `sources/`. */
  dir: string;
  apt: AptSource[];
  own: OwnSource[];
  /** Our packages the build needs; installed with exactly these versions. */
  packages: InstalledOwnPackage[];
  /**
   * rpm dists: our rpms to install, file names in `dir/rpms` (downloaded and checked by the
   * runner), installed with `rpm -i --nodeps` after the Debian packages. @default []
   */
  rpmFiles?: string[];
}

/** What a buildroot records of our chosen packages (deb or rpm) for the cache key and builtAgainst. */
export function installedPackages(chosen: readonly InstalledOwnPackage[]): InstalledOwnPackage[] {
  return chosen.map((pkg) => ({
    name: pkg.name,
    version: pkg.version,
    sha256: pkg.sha256,
    repoKey: pkg.repoKey,
    ...(pkg.buildId === undefined ? {} : { buildId: pkg.buildId }),
  }));
}

/** The apt source line of a dist repository inside the buildroot. */
export function aptSourceLine(source: AptSource): string {
  const options = source.keyFile === undefined ? '' : `[signed-by=${KEYRING_DIR}/${source.keyFile}] `;
  return `deb ${options}${source.url} ${source.suite} ${source.components.join(' ')}`;
}

/** The URL apt sees for a local copy of our repository. */
function ownSourceUrl(source: OwnSource): string {
  return `file:${STEP_DIR}/sources/own/${source.dir}`;
}

export function ownSourceLine(source: OwnSource): string {
  return `deb [signed-by=${KEYRING_DIR}/${source.keyFile}] ${ownSourceUrl(source)} ${source.suite} main`;
}

/** How errors name a source: its URL, or for our local copies the repository it copies. */
export function sourceLabels(sources: PackageSources | undefined): Map<string, string> {
  return new Map((sources?.own ?? []).map((own) => [ownSourceUrl(own), `buildfleet repository ${own.repoKey}`]));
}

/**
 * Cache key input: every source with its key's hash and exactly our packages chosen, so a new
 * library version (or a rebuilt file of the same version) makes a new layer.
 */
export function sourcesFingerprint(sources: PackageSources | undefined): unknown {
  if (sources === undefined) return null;
  return {
    apt: sources.apt.map((s) => ({ url: s.url, suite: s.suite, components: s.components, key: s.keySha256 ?? null })),
    own: sources.own.map((s) => ({ repoKey: s.repoKey, key: s.keySha256 })),
    packages: sources.packages.map((p) => ({ name: p.name, version: p.version, sha256: p.sha256 })),
  };
}

/** Files the install script reads below `<dir>/sources`. */
export const SOURCE_FILES = {
  aptList: 'apt.list',
  ownList: 'own.list',
  urls: 'urls.txt',
  /** Names of our packages installed, for the log. */
  ownPackages: 'own-packages.txt',
} as const;

/** Writes `<dir>/sources/` (keys, our repository copies, the two lists and the URLs to watch). */
export async function writeSourceFiles(dir: string, sources: PackageSources | undefined): Promise<void> {
  const target = join(dir, 'sources');
  await mkdir(join(target, 'keys'), { recursive: true });
  await mkdir(join(target, 'own'), { recursive: true });
  await mkdir(join(target, 'rpms'), { recursive: true });
  if (sources !== undefined) await cp(sources.dir, target, { recursive: true });
  const lines = (items: string[]): string => items.map((line) => `${line}\n`).join('');
  await writeFile(join(target, SOURCE_FILES.aptList), lines((sources?.apt ?? []).map(aptSourceLine)));
  await writeFile(join(target, SOURCE_FILES.ownList), lines((sources?.own ?? []).map(ownSourceLine)));
  await writeFile(
    join(target, SOURCE_FILES.urls),
    lines([...(sources?.apt ?? []).map((s) => s.url), ...(sources?.own ?? []).map(ownSourceUrl)]),
  );
  // Debian packages only: our rpms are listed by rpm itself.
  const debs = (sources?.rpmFiles ?? []).length > 0 ? [] : (sources?.packages ?? []);
  await writeFile(join(target, SOURCE_FILES.ownPackages), lines(debs.map((p) => p.name)));
}
