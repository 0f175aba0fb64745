/**
 * Dist definitions: `dists/<name>.yml` at the root of the sources repo says how the
 * buildroots of that dist are made (docs/sources.md).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError } from '../../errors/index.ts';
import { checkSchema } from './check-schema.ts';
import { DIST_NAME_PATTERN, DistFileSchema, type BootstrapTool, type DistFile, type RebuildMode } from './schemas.ts';
import { metadataInvalid, problemError, readYamlSource, type YamlSource } from './yaml-source.ts';

export const DISTS_DIR = 'dists';
const DEFAULT_RUNNER_GROUP = 'default';
/** Default bootstrap variant: the smallest set that can build packages (essential + apt + build-essential). */
const DEFAULT_BOOTSTRAP_VARIANT = 'buildd';

/** Variants each tool knows (mmdebstrap(1), debootstrap(8)). */
const VARIANTS: Record<BootstrapTool, readonly string[]> = {
  mmdebstrap: [
    'extract',
    'custom',
    'essential',
    'apt',
    'required',
    'minbase',
    'buildd',
    'important',
    'debootstrap',
    'standard',
  ],
  debootstrap: ['minbase', 'buildd', 'fakechroot'],
};

export type DistBase =
  | { kind: 'image'; image: string }
  | { kind: 'bootstrap'; tool: BootstrapTool; suite: string; mirror: string; variant: string; components: string[] };

/**
 * The OpenPGP public key a repository is signed with (armored or binary): fetched by the runner
 * (`url`: http, https or file) or read from the sources repo at the commit being built (`path`,
 * relative to its root).
 */
export type RepositoryKey = { kind: 'url'; url: string } | { kind: 'path'; path: string };

/** An apt source of the buildroot: `deb [signed-by=<key>] <url> <suite> <components...>`. */
export interface AptRepository {
  url: string;
  suite: string;
  components: string[];
  /** Without one, apt trusts the base system's keyring (fine for the bootstrap mirror). */
  key?: RepositoryKey;
}

/** An rpm-md repository (a dnf/zypper baseurl) with the name it gets in the buildroot. */
export interface RpmRepository {
  url: string;
  name: string;
  key?: RepositoryKey;
}

/**
 * Which of buildfleet's own published repositories of this dist a buildroot installs from:
 * every repo key of the dist (`true`, the default), none, or the listed repo keys.
 */
export type OwnRepositories = boolean | string[];

interface DistCommon {
  name: string;
  /** `dists/<name>.yml` */
  file: string;
  base: DistBase;
  /** Runner group of targets that name none. */
  runnerGroup: string;
  /** Installed into every buildroot of the dist, before the package's own build dependencies. */
  packages: string[];
  /** The arches the dist can be built for; undefined: any. */
  arches: string[] | undefined;
  /** @default true */
  ownRepositories: OwnRepositories;
  /** Which dependants a new build of a package of this dist rebuilds. @default 'transitive' */
  rebuildDependants: RebuildMode;
}

/**
 * A deb dist: `repositories` are every apt source of the buildroot; with a bootstrap base its
 * mirror is the first of them (added when not listed).
 */
export interface DebDist extends DistCommon {
  format: 'deb';
  repositories: AptRepository[];
}

export interface RpmDist extends DistCommon {
  format: 'rpm';
  repositories: RpmRepository[];
}

export type DistSpec = DebDist | RpmDist;

function distFile(name: string): string {
  return `${DISTS_DIR}/${name}.yml`;
}

/**
 * Reads and checks `dists/<name>.yml`.
 * @throws BuildfleetError('metadata-invalid') naming the file (also when it does not exist), 'key-invalid' for a bad name
 */
export async function loadDist(options: { repoDir: string; name: string }): Promise<DistSpec> {
  const dist = await loadDistIfDefined(options);
  if (dist === undefined) throw distUndefined(options.name, '');
  return dist;
}

/** Like loadDist, with undefined when the dist file does not exist. */
export async function loadDistIfDefined(options: { repoDir: string; name: string }): Promise<DistSpec | undefined> {
  const { repoDir, name } = options;
  if (!new RegExp(DIST_NAME_PATTERN).test(name)) {
    throw new BuildfleetError('key-invalid', `dist "${name}" must be a name of letters, digits, ".", "_" and "-"`, {
      context: { value: name },
    });
  }
  const file = distFile(name);
  const source = await readYamlSource(repoDir, file);
  return source === undefined ? undefined : distFromSource(name, source);
}

/** `dists/<name>.yml: dist "<name>" is not defined: the file does not exist<why>` */
export function distUndefined(name: string, why: string): BuildfleetError {
  return metadataInvalid(distFile(name), `dist "${name}" is not defined: the file does not exist${why}`, {});
}

/** Names of every dist defined in the repo, sorted. */
export async function listDists(repoDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(join(repoDir, DISTS_DIR));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.endsWith('.yml'))
    .map((entry) => entry.slice(0, -'.yml'.length))
    .sort();
}

/** Checks the parsed file and fills defaults. Exported for tests of the rules without files. */
function distFromSource(name: string, source: YamlSource): DistSpec {
  const data = checkSchema(source, DistFileSchema, 'dist');
  const base = baseOf(data, source);
  const common = {
    name,
    file: source.file,
    base,
    runnerGroup: data.runnerGroup ?? DEFAULT_RUNNER_GROUP,
    packages: [...new Set(data.packages ?? [])],
    arches: data.arches,
    ownRepositories: ownRepositoriesOf(name, data, source),
    rebuildDependants: data.rebuildDependants ?? 'transitive',
  };
  if (data.format === 'rpm') return { ...common, format: 'rpm', repositories: rpmRepositories(data, source) };
  return { ...common, format: 'deb', repositories: aptRepositories(data, base, source) };
}

function baseOf(data: DistFile, source: YamlSource): DistBase {
  const { image, bootstrap } = data.base;
  if (image !== undefined && bootstrap === undefined) return { kind: 'image', image };
  if (bootstrap === undefined || image !== undefined) {
    throw problemError(source, { path: ['base'], reason: 'must have exactly one of the keys "image" or "bootstrap"' });
  }
  const variant = bootstrap.variant ?? DEFAULT_BOOTSTRAP_VARIANT;
  const known = VARIANTS[bootstrap.tool];
  if (!known.includes(variant)) {
    throw problemError(source, {
      path: ['base', 'bootstrap', 'variant'],
      reason: `must be a variant ${bootstrap.tool} knows: ${known.join(', ')}`,
    });
  }
  return {
    kind: 'bootstrap',
    tool: bootstrap.tool,
    suite: bootstrap.suite,
    mirror: bootstrap.mirror,
    variant,
    components: bootstrap.components ?? ['main'],
  };
}

function aptRepositories(data: DistFile, base: DistBase, source: YamlSource): AptRepository[] {
  const listed = (data.repositories ?? []).map((repository, index): AptRepository => {
    if (repository.name !== undefined) {
      throw problemError(source, { path: ['repositories', index, 'name'], reason: 'is for rpm dists only' });
    }
    if (repository.suite === undefined) {
      throw problemError(source, { path: ['repositories', index, 'suite'], reason: 'is required for a deb dist' });
    }
    const key = keyOf(repository.key, source, index);
    return {
      url: repository.url,
      suite: repository.suite,
      components: repository.components ?? ['main'],
      ...(key === undefined ? {} : { key }),
    };
  });
  if (base.kind !== 'bootstrap') return listed;
  const mirrorListed = listed.some((repo) => sameUrl(repo.url, base.mirror) && repo.suite === base.suite);
  return mirrorListed ? listed : [{ url: base.mirror, suite: base.suite, components: base.components }, ...listed];
}

function rpmRepositories(data: DistFile, source: YamlSource): RpmRepository[] {
  return (data.repositories ?? []).map((repository, index): RpmRepository => {
    for (const key of ['suite', 'components'] as const) {
      if (repository[key] !== undefined) {
        throw problemError(source, { path: ['repositories', index, key], reason: 'is for deb dists only' });
      }
    }
    const key = keyOf(repository.key, source, index);
    return { url: repository.url, name: repository.name ?? `repo${index + 1}`, ...(key === undefined ? {} : { key }) };
  });
}

const KEY_URL = /^(https?|file):\/\/\S+$/;

function keyOf(key: string | undefined, source: YamlSource, index: number): RepositoryKey | undefined {
  if (key === undefined) return undefined;
  if (KEY_URL.test(key)) return { kind: 'url', url: key };
  const segments = key.split('/');
  if (/^[a-z][a-z0-9+.-]*:/i.test(key) || key.startsWith('/') || segments.some((s) => s === '' || s === '..')) {
    throw problemError(source, {
      path: ['repositories', index, 'key'],
      reason: 'must be an http(s):// or file:// URL or a relative path in the sources repo (no "..")',
    });
  }
  return { kind: 'path', path: segments.filter((s) => s !== '.').join('/') };
}

/** A listed repo key is `<parent dir of the packages>/<dist>`: it must end with this dist's name. */
function ownRepositoriesOf(name: string, data: DistFile, source: YamlSource): OwnRepositories {
  const own = data.ownRepositories ?? true;
  if (typeof own === 'boolean') return own;
  own.forEach((repoKey, index) => {
    const segments = repoKey.split('/');
    if (segments.length < 2 || segments.at(-1) !== name || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw problemError(source, {
        path: ['ownRepositories', index],
        reason: `must be a repo key of this dist, "<parent dir of the packages>/${name}" (e.g. projects/${name})`,
      });
    }
  });
  return [...new Set(own)];
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
