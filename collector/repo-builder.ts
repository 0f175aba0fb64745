import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { isBuildfleetError } from '../shared/errors/index.ts';
import type { ArtifactKind, BuildEvent } from '../shared/messages/index.ts';
import { versionPrefix, type RepoFormat } from '../shared/repos/layout.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';
import { readDebPackage, readSourcePackage, writeAptRepository } from './apt/index.ts';
import { indexedArtifactsOf } from './images/images-index.ts';
import { publishNextImagesVersion } from './images/images-repository.ts';
import { downloadArtifact } from './publish/artifact-download.ts';
import { MANIFEST_FILE, nextManifest, readManifest } from './publish/manifest.ts';
import { readPointer } from '../shared/repos/pointer.ts';
import { publishVersion } from './publish/version-publisher.ts';
import { readRpmHeader, writeRpmRepository } from './rpm/index.ts';
import type { Signer } from './signing/index.ts';

const FORMAT_OF: Partial<Record<ArtifactKind, RepoFormat>> = {
  deb: 'apt',
  'deb-source': 'apt',
  rpm: 'rpm',
  srpm: 'rpm',
};

/**
 * Pure: which repository format a build's artifacts go to (undefined: nothing to publish).
 * Packages go to apt or rpm; images, docker images, and the files of a build that made only
 * `other` files (noop builds) go to the image index (indexedArtifactsOf).
 */
export function repoFormatOf(event: BuildEvent): RepoFormat | undefined {
  for (const artifact of event.artifacts ?? []) {
    const format = FORMAT_OF[artifact.kind];
    if (format) return format;
  }
  return indexedArtifactsOf(event).length > 0 ? 'images' : undefined;
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

type NextVersion =
  NewVersionResult | { version: undefined; already: BuildEvent[]; rejected: NewVersionResult['rejected'] };

/**
 * Makes and publishes the next version of one repository: the packages of the live version
 * plus those of `builds`, written and signed by the format's writer (an image index for
 * 'images', collector/images/), then switched live.
 */
export async function publishNextVersion(options: {
  store: ArtifactStore;
  signer: Signer;
  repoKey: string;
  format: RepoFormat;
  dist: string;
  builds: readonly BuildEvent[];
  workDir: string;
  keepVersions: number;
  /** `<publicUrl>/<repoKey>/<format>`: image indexes name their files' URLs with it. */
  repoUrl: string;
  signal?: AbortSignal;
}): Promise<NextVersion> {
  if (options.format === 'images') return publishNextImagesVersion(options);
  return publishPackageVersion({ ...options, format: options.format });
}

async function publishPackageVersion(options: {
  store: ArtifactStore;
  signer: Signer;
  repoKey: string;
  format: 'apt' | 'rpm';
  dist: string;
  builds: readonly BuildEvent[];
  workDir: string;
  keepVersions: number;
  signal?: AbortSignal;
}): Promise<NextVersion> {
  const started = Date.now();
  const { store, repoKey, format, signal } = options;
  const work = join(options.workDir, createHash('sha256').update(`${repoKey}\0${format}`).digest('hex').slice(0, 16));
  await rm(work, { recursive: true, force: true });
  const input = join(work, 'in');
  const output = join(work, 'out');
  await mkdir(input, { recursive: true });
  try {
    const live = await readPointer(store, repoKey, format);
    const manifest = await readManifest(store, repoKey, format, live?.version);
    for (const file of manifest.files) {
      await downloadArtifact(
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
    const newFiles = new Map<string, string>();
    for (const event of options.builds) {
      if (known.has(event.buildId)) continue;
      try {
        const names: string[] = [];
        for (const artifact of event.artifacts ?? []) {
          if (FORMAT_OF[artifact.kind] !== format) continue;
          const path = join(input, artifact.name);
          await downloadArtifact(store, artifact.key, path, signal, artifact.sha256);
          names.push(basename(artifact.name));
        }
        for (const name of names) newFiles.set(name, event.buildId);
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
    const next = nextManifest(
      manifest,
      included.map((b) => b.buildId),
      await packageFiles(output, format),
      newFiles,
    );
    await writeFile(join(output, MANIFEST_FILE), JSON.stringify(next));
    const published = await publishVersion({ store, repoKey, format, dir: output, signal });
    return { version: published.version, included, already, rejected, durationMs: Date.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true });
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
