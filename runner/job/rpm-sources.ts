/**
 * Our own rpms for an rpm dist's (Debian-based) buildroot: the BuildRequires our published rpm
 * repositories of the dist provide are resolved against their primary.xml (own-rpms.ts); the
 * chosen rpms are downloaded from the artifact store after checking the chain of trust:
 * `repodata/repomd.xml.asc` with gpgv and buildfleet's key, the primary.xml's sha256 from
 * repomd.xml, each rpm's sha256 from primary.xml. The dependency step installs them with
 * `rpm -i --nodeps` (docs/builders.md, "rpm dists").
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { listRepositories } from '../../shared/repos/catalog.ts';
import { versionPrefix } from '../../shared/repos/layout.ts';
import type { RpmDist } from '../../shared/sources/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { ownRpmsFromPrimary, resolveOwnRpms, type OwnRpm } from '../buildroot/own-rpms.ts';
import { installedPackages, type PackageSources } from '../buildroot/package-sources.ts';
import { buildOfManifest, getIfPresent, MANIFEST_FILE, sha256 } from './package-sources.ts';

export interface RpmGatherOptions {
  store: ArtifactStore;
  dist: RpmDist;
  /** The spec's BuildRequires, as written. */
  requirements: readonly string[];
  /** rpm arch (`x86_64`). */
  arch: string;
  /** Empty directory to fill (becomes PackageSources.dir). */
  dir: string;
  trustedKey?: string | undefined;
  signal?: AbortSignal;
}

export interface GatheredRpms {
  sources: PackageSources;
  chosen: OwnRpm[];
  /** BuildRequires the chosen rpms satisfy (not to be installed as Debian packages). */
  satisfied: string[];
}

export async function gatherOwnRpms(options: RpmGatherOptions): Promise<GatheredRpms> {
  const { dist, store, signal, dir } = options;
  await mkdir(join(dir, 'rpms'), { recursive: true });
  const all: { rpm: OwnRpm; prefix: string }[] = [];
  if (dist.ownRepositories !== false) {
    const allowed = dist.ownRepositories === true ? undefined : new Set(dist.ownRepositories);
    const listed = (await listRepositories(store, '')).filter(
      (repo) => repo.format === 'rpm' && repo.dist === dist.name && (allowed?.has(repo.key) ?? true),
    );
    for (const repo of listed) {
      const prefix = versionPrefix(repo.key, 'rpm', repo.version);
      const repomd = await getIfPresent(store, `${prefix}/repodata/repomd.xml`, signal);
      if (repomd === undefined) continue;
      const signature = await store.get(`${prefix}/repodata/repomd.xml.asc`, { signal });
      const key = options.trustedKey ?? (await store.get(`${prefix}/key.asc`, { signal })).toString('utf8');
      await verifyRepomd(repo.key, repomd, signature, key, dir, signal);
      const primary = primaryOf(repo.key, repomd.toString('utf8'));
      const primaryBytes = await store.get(`${prefix}/${primary.href}`, { signal });
      if (sha256(primaryBytes) !== primary.sha256) throw mismatch(repo.key, primary.href);
      const xml = (primary.href.endsWith('.gz') ? gunzipSync(primaryBytes) : primaryBytes).toString('utf8');
      const manifest = await getIfPresent(store, `${prefix}/${MANIFEST_FILE}`, signal);
      const buildOf = manifest === undefined ? {} : buildOfManifest(manifest);
      for (const rpm of ownRpmsFromPrimary(xml, repo.key, buildOf)) all.push({ rpm, prefix });
    }
  }
  const { chosen, satisfied } = resolveOwnRpms(
    options.requirements,
    all.map((entry) => entry.rpm),
    options.arch,
  );
  const rpmFiles: string[] = [];
  for (const rpm of chosen) {
    const prefix = all.find((entry) => entry.rpm === rpm)?.prefix ?? '';
    const bytes = await store.get(`${prefix}/${rpm.filename}`, { signal });
    if (sha256(bytes) !== rpm.sha256) throw mismatch(rpm.repoKey, rpm.filename);
    const name = rpm.filename.split('/').at(-1) ?? rpm.filename;
    await writeFile(join(dir, 'rpms', name), bytes);
    rpmFiles.push(name);
  }
  return { sources: { dir, apt: [], own: [], packages: installedPackages(chosen), rpmFiles }, chosen, satisfied };
}

/** gpgv wants a binary keyring: the armored key is dearmored in a private GNUPGHOME first. */
async function verifyRepomd(
  repoKey: string,
  repomd: Buffer,
  signature: Buffer,
  key: string,
  parent: string,
  signal?: AbortSignal,
): Promise<void> {
  const home = await mkdtemp(join(parent, '.gpg-'));
  try {
    await writeFile(join(home, 'key.asc'), key);
    await writeFile(join(home, 'repomd.xml'), repomd);
    await writeFile(join(home, 'repomd.xml.asc'), signature);
    const env = { GNUPGHOME: home };
    await runCommand('gpg', ['--batch', '--dearmor', '-o', join(home, 'key.gpg'), join(home, 'key.asc')], {
      env,
      signal,
      timeoutMs: 30_000,
    });
    await runCommand(
      'gpgv',
      ['--keyring', join(home, 'key.gpg'), join(home, 'repomd.xml.asc'), join(home, 'repomd.xml')],
      { env, signal, timeoutMs: 30_000 },
    );
  } catch (error) {
    if (isBuildfleetError(error, 'aborted')) throw error;
    throw new BuildfleetError(
      'buildroot-failed',
      `buildfleet rpm repository ${repoKey}: repodata/repomd.xml.asc does not verify with buildfleet's key`,
      { retriable: false, cause: error, context: { repoKey } },
    );
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function primaryOf(repoKey: string, repomd: string): { href: string; sha256: string } {
  const data = /<data type="primary">([\s\S]*?)<\/data>/.exec(repomd)?.[1] ?? '';
  const sha = /<checksum type="sha256">([0-9a-f]{64})<\/checksum>/.exec(data)?.[1];
  const href = /<location href="([^"]+)"/.exec(data)?.[1];
  if (sha === undefined || href === undefined) {
    throw new BuildfleetError('buildroot-failed', `buildfleet rpm repository ${repoKey}: repomd.xml names no primary`, {
      retriable: false,
      context: { repoKey },
    });
  }
  return { href, sha256: sha };
}

function mismatch(repoKey: string, file: string): BuildfleetError {
  return new BuildfleetError('artifact-missing', `${repoKey}: ${file} does not match the sha256 its metadata names`, {
    retriable: true,
    context: { repoKey, file },
  });
}
