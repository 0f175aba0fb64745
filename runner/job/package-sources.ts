/**
 * Gathers the package sources of a deb buildroot's dependency step (runner/buildroot/
 * package-sources.ts): the dist's repositories with their keys (a URL key is fetched here, a
 * path key read from the checkout), and local copies of our own published repositories of the
 * dist: the signed InRelease and the arch's Packages index as published, plus only the pool
 * files of our packages the build needs (own-packages.ts), from the artifact store.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildfleetError, isBuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { listRepositories } from '../../shared/repos/catalog.ts';
import { versionPrefix } from '../../shared/repos/layout.ts';
import type { DebDist, RepositoryKey } from '../../shared/sources/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { ownPackagesFromIndex, resolveOwnPackages, type OwnPackage } from '../buildroot/own-packages.ts';
import {
  installedPackages,
  type AptSource,
  type OwnSource,
  type PackageSources,
} from '../buildroot/package-sources.ts';

/** The manifest file of a repository version (collector/publish/manifest.ts). */
export const MANIFEST_FILE = 'buildfleet-manifest.json';
const KEY_FETCH_TIMEOUT_MS = 60_000;

export interface GatherOptions {
  store: ArtifactStore;
  dist: DebDist;
  /** The checkout of the sources repo (path keys are read from it). */
  repoDir: string;
  /** Relations the buildroot installs (dist packages and build dependencies). */
  relations: readonly string[];
  /** Debian arch name (`amd64`). */
  arch: string;
  /** Empty directory to fill (becomes PackageSources.dir). */
  dir: string;
  /** Armored public key our repositories are checked with; default: each repository's own key.asc. */
  trustedKey?: string | undefined;
  signal?: AbortSignal;
}

export interface GatheredSources {
  sources: PackageSources;
  /** Our packages to install, with the build that made each (when the manifest says). */
  chosen: OwnPackage[];
}

export async function gatherPackageSources(options: GatherOptions): Promise<GatheredSources> {
  const { dist, dir } = options;
  await mkdir(join(dir, 'keys'), { recursive: true });
  await mkdir(join(dir, 'own'), { recursive: true });
  const apt: AptSource[] = [];
  for (const [index, repository] of dist.repositories.entries()) {
    // The base system already has its bootstrap mirror (with its keyring): a second line would clash.
    if (
      dist.base.kind === 'bootstrap' &&
      sameUrl(repository.url, dist.base.mirror) &&
      repository.suite === dist.base.suite
    ) {
      continue;
    }
    const source: AptSource = { url: repository.url, suite: repository.suite, components: repository.components };
    if (repository.key !== undefined) {
      const key = await readKey(repository.key, options, index);
      const keyFile = `repo${index + 1}${isArmored(key) ? '.asc' : '.gpg'}`;
      await writeFile(join(dir, 'keys', keyFile), key);
      Object.assign(source, { keyFile, keySha256: sha256(key) });
    }
    apt.push(source);
  }

  const repos = await ownRepositories(options);
  const chosen = resolveOwnPackages(
    options.relations,
    repos.flatMap((repo) => repo.packages),
    options.arch,
  );
  const own: OwnSource[] = [];
  for (const [index, repo] of repos.entries()) {
    const mine = chosen.filter((pkg) => pkg.repoKey === repo.repoKey);
    if (mine.length === 0) continue;
    const copy = join(dir, 'own', `repo${index + 1}`);
    await put(join(copy, `dists/${dist.name}/InRelease`), repo.inRelease);
    // apt fetches the compressed index the Release lists first; every form is copied as published.
    for (const [name, bytes] of repo.indexFiles) await put(join(copy, `dists/${dist.name}/${name}`), bytes);
    for (const pkg of mine) {
      const bytes = await options.store.get(`${repo.prefix}/${pkg.filename}`, { signal: options.signal });
      if (sha256(bytes) !== pkg.sha256) {
        throw new BuildfleetError(
          'artifact-missing',
          `${repo.repoKey}: ${pkg.filename} does not match the sha256 of its Packages index`,
          { retriable: true, context: { repoKey: repo.repoKey, file: pkg.filename } },
        );
      }
      await put(join(copy, pkg.filename), bytes);
    }
    const keyFile = `buildfleet-repo${index + 1}.asc`;
    await writeFile(join(dir, 'keys', keyFile), repo.key);
    own.push({
      repoKey: repo.repoKey,
      dir: `repo${index + 1}`,
      suite: dist.name,
      keyFile,
      keySha256: sha256(repo.key),
    });
  }
  return { sources: { dir, apt, own, packages: installedPackages(chosen) }, chosen };
}

interface OwnRepository {
  repoKey: string;
  prefix: string;
  inRelease: Buffer;
  /** The arch's Packages index in every form published (`main/binary-amd64/Packages.gz` -> bytes). */
  indexFiles: Map<string, Buffer>;
  key: string;
  packages: OwnPackage[];
}

/** Our published apt repositories of the dist the dist allows, with their arch's index. */
async function ownRepositories(options: GatherOptions): Promise<OwnRepository[]> {
  const { dist, store, signal } = options;
  if (dist.ownRepositories === false) return [];
  const allowed = dist.ownRepositories === true ? undefined : new Set(dist.ownRepositories);
  const listed = (await listRepositories(store, '')).filter(
    (repo) => repo.format === 'apt' && repo.dist === dist.name && (allowed?.has(repo.key) ?? true),
  );
  const found: OwnRepository[] = [];
  for (const repo of listed) {
    const prefix = versionPrefix(repo.key, 'apt', repo.version);
    const indexDir = `main/binary-${options.arch}`;
    const packagesIndex = await getIfPresent(store, `${prefix}/dists/${dist.name}/${indexDir}/Packages`, signal);
    if (packagesIndex === undefined) continue; // nothing for this arch
    const indexFiles = new Map([[`${indexDir}/Packages`, packagesIndex]]);
    for (const compressed of ['Packages.gz', 'Packages.xz']) {
      const bytes = await getIfPresent(store, `${prefix}/dists/${dist.name}/${indexDir}/${compressed}`, signal);
      if (bytes !== undefined) indexFiles.set(`${indexDir}/${compressed}`, bytes);
    }
    const inRelease = await store.get(`${prefix}/dists/${dist.name}/InRelease`, { signal });
    const key = options.trustedKey ?? (await store.get(`${prefix}/key.asc`, { signal })).toString('utf8');
    const manifestBytes = await getIfPresent(store, `${prefix}/${MANIFEST_FILE}`, signal);
    const buildOf = manifestBytes === undefined ? {} : buildOfManifest(manifestBytes);
    found.push({
      repoKey: repo.key,
      prefix,
      inRelease,
      indexFiles,
      key,
      packages: ownPackagesFromIndex(packagesIndex.toString('utf8'), repo.key, buildOf),
    });
  }
  return found;
}

/** `buildOf` of a manifest (pool file -> build id); older manifests have none. */
export function buildOfManifest(bytes: Buffer): Record<string, string> {
  const parsed = JSON.parse(bytes.toString('utf8')) as { buildOf?: Record<string, string> };
  return parsed.buildOf ?? {};
}

export async function getIfPresent(
  store: ArtifactStore,
  key: string,
  signal?: AbortSignal,
): Promise<Buffer | undefined> {
  try {
    return await store.get(key, { signal });
  } catch (error) {
    if (isBuildfleetError(error, 'storage-not-found')) return undefined;
    throw error;
  }
}

async function readKey(key: RepositoryKey, options: GatherOptions, index: number): Promise<Buffer> {
  const field = `repositories[${index}].key`;
  if (key.kind === 'path') {
    try {
      return await readFile(join(options.repoDir, key.path));
    } catch (error) {
      throw new BuildfleetError(
        'metadata-invalid',
        `${options.dist.file}: field "${field}": ${key.path} is not a file in the sources repo`,
        { cause: error, context: { file: options.dist.file, field } },
      );
    }
  }
  try {
    if (key.url.startsWith('file:')) return await readFile(fileURLToPath(key.url));
    const signal = AbortSignal.any([
      AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS),
      ...(options.signal ? [options.signal] : []),
    ]);
    const response = await fetch(key.url, { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throwIfAborted(options.signal);
    throw new BuildfleetError(
      'buildroot-failed',
      `${options.dist.file}: the key of repository ${options.dist.repositories[index]?.url ?? ''} ` +
        `could not be read from ${key.url}: ${(error as Error).message}`,
      { cause: error, context: { file: options.dist.file, field, url: key.url } },
    );
  }
}

async function put(path: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

function isArmored(key: Buffer): boolean {
  return key.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP');
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
