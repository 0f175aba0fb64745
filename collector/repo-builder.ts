import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BuildfleetError, isBuildfleetError } from '../shared/errors/index.ts';
import type { ArtifactKind, BuildEvent } from '../shared/messages/index.ts';
import { versionPrefix, type RepoFormat } from '../shared/repos/layout.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';
import { readDebPackage, readSourcePackage, writeAptRepository } from './apt/index.ts';
import { publishVersion, readPointer } from './publish/version-publisher.ts';
import { readRpmHeader, writeRpmRepository } from './rpm/index.ts';
import type { Signer } from './signing/index.ts';

/** Kept inside every version: what it holds, so the next version starts from it. */
export const MANIFEST_FILE = 'buildfleet-manifest.json';
const MANIFEST_BUILDS_KEPT = 10_000;

interface Manifest {
  /** Build ids whose packages went into this repository (newest last). */
  builds: string[];
  /** Package files of the version, relative to its root. */
  files: string[];
}

const FORMAT_OF: Partial<Record<ArtifactKind, RepoFormat>> = {
  deb: 'apt',
  'deb-source': 'apt',
  rpm: 'rpm',
  srpm: 'rpm',
};

/** Pure: which repository format a build's artifacts go to (undefined: nothing to publish). */
export function repoFormatOf(event: BuildEvent): RepoFormat | undefined {
  for (const artifact of event.artifacts ?? []) {
    const format = FORMAT_OF[artifact.kind];
    if (format) return format;
  }
  return undefined;
}

export interface NewVersionResult {
  version: string;
  /** Builds whose packages are in the new version. */
  included: BuildEvent[];
  /** Builds already in the repository (a redelivered event): announced again, not rebuilt. */
  already: BuildEvent[];
  /** Builds left out because an artifact is missing or damaged. */
  rejected: Array<{ event: BuildEvent; code: string; message: string }>;
  durationMs: number;
}

/**
 * Makes and publishes the next version of one repository: the packages of the live version
 * plus those of `builds`, written and signed by the format's writer, then switched live.
 */
export async function publishNextVersion(options: {
  store: ArtifactStore;
  signer: Signer;
  repoKey: string;
  format: 'apt' | 'rpm';
  dist: string;
  builds: readonly BuildEvent[];
  workDir: string;
  keepVersions: number;
  signal?: AbortSignal;
}): Promise<NewVersionResult | { version: undefined; already: BuildEvent[]; rejected: NewVersionResult['rejected'] }> {
  const started = Date.now();
  const { store, repoKey, format, signal } = options;
  const work = join(options.workDir, createHash('sha256').update(`${repoKey}\0${format}`).digest('hex').slice(0, 16));
  await rm(work, { recursive: true, force: true });
  const input = join(work, 'in');
  const output = join(work, 'out');
  await mkdir(input, { recursive: true });
  try {
    const live = await readPointer(store, repoKey, format);
    const manifest: Manifest = live
      ? (JSON.parse(
          (await store.get(`${versionPrefix(repoKey, format, live.version)}/${MANIFEST_FILE}`)).toString('utf8'),
        ) as Manifest)
      : { builds: [], files: [] };
    for (const file of manifest.files) {
      await download(
        store,
        `${versionPrefix(repoKey, format, live?.version ?? '')}/${file}`,
        join(input, basename(file)),
        signal,
      );
    }
    const known = new Set(manifest.builds);
    const already = options.builds.filter((b) => known.has(b.buildId));
    const rejected: NewVersionResult['rejected'] = [];
    const included: BuildEvent[] = [];
    for (const event of options.builds) {
      if (known.has(event.buildId)) continue;
      try {
        for (const artifact of event.artifacts ?? []) {
          if (FORMAT_OF[artifact.kind] !== format) continue;
          const path = join(input, artifact.name);
          await download(store, artifact.key, path, signal, artifact.sha256);
        }
        included.push(event);
      } catch (error) {
        if (!isBuildfleetError(error, 'artifact-missing')) throw error;
        rejected.push({ event, code: error.code, message: error.message });
      }
    }
    if (included.length === 0) return { version: undefined, already, rejected };

    const files = await readdir(input);
    if (format === 'apt') {
      await writeAptRepository({
        dir: output,
        dist: options.dist,
        packages: await Promise.all(
          files.filter((f) => f.endsWith('.deb')).map((f) => readDebPackage(join(input, f), signal)),
        ),
        sources: await Promise.all(
          files.filter((f) => f.endsWith('.dsc')).map((f) => readSourcePackage(join(input, f))),
        ),
        signer: options.signer,
        keepVersions: options.keepVersions,
        signal,
      });
    } else {
      await writeRpmRepository({
        dir: output,
        packages: await Promise.all(
          files.filter((f) => f.endsWith('.rpm')).map((f) => readRpmHeader(join(input, f), signal)),
        ),
        signer: options.signer,
        keepVersions: options.keepVersions,
        signal,
      });
    }
    const next: Manifest = {
      builds: [...manifest.builds, ...included.map((b) => b.buildId)].slice(-MANIFEST_BUILDS_KEPT),
      files: await packageFiles(output, format),
    };
    await writeFile(join(output, MANIFEST_FILE), JSON.stringify(next));
    const published = await publishVersion({ store, repoKey, format, dir: output, signal });
    return { version: published.version, included, already, rejected, durationMs: Date.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Downloads one object, checking its sha256 when given; a missing or damaged one is 'artifact-missing'. */
async function download(
  store: ArtifactStore,
  key: string,
  path: string,
  signal?: AbortSignal,
  sha256?: string,
): Promise<void> {
  let stream;
  try {
    stream = await store.getStream(key, { signal });
  } catch (error) {
    if (isBuildfleetError(error, 'storage-not-found')) {
      throw new BuildfleetError('artifact-missing', `artifact ${key} is not in the artifact store`, {
        context: { key },
      });
    }
    throw error;
  }
  await pipeline(stream, createWriteStream(path), { signal });
  if (sha256 !== undefined) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      throw new BuildfleetError(
        'artifact-missing',
        `artifact ${key} has sha256 ${actual}, the build reported ${sha256}`,
        {
          context: { key },
        },
      );
    }
  }
}

/** The package files of a written repository tree (what the next version starts from). */
async function packageFiles(dir: string, format: 'apt' | 'rpm'): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const isPackage = format === 'apt' ? (p: string) => p.startsWith('pool/') : (p: string) => p.endsWith('.rpm');
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter(isPackage)
    .sort();
}
