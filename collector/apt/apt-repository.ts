import { copyFile, link, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BuildfleetError, isBuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { Signer } from '../signing/index.ts';
import {
  planAptRepository,
  type AptBinaryPackage,
  type AptPoolFile,
  type AptRepositoryPlan,
  type AptSourcePackage,
} from './apt-plan.ts';

export interface WriteAptRepositoryOptions {
  /** An empty (or not yet existing) directory that receives the complete repository. */
  dir: string;
  /** Suite and codename, e.g. `bookworm`. */
  dist: string;
  /** All binaries the repository should hold: what it held before plus the new ones. */
  packages: readonly AptBinaryPackage[];
  sources?: readonly AptSourcePackage[];
  signer: Signer;
  /** @default 3 */
  keepVersions?: number;
  architectures?: readonly string[];
  /** Release's Origin and Label. @default 'buildfleet' */
  origin?: string;
  description?: string;
  signal?: AbortSignal;
}

export interface AptRepositoryResult {
  plan: AptRepositoryPlan;
  /** Relative paths of every file written. */
  files: string[];
  durationMs: number;
}

/**
 * Writes a complete, signed apt repository into `dir`: pool/, dists/<dist>/main/binary-<arch>/
 * Packages(.gz), source/Sources(.gz), Release, InRelease, Release.gpg, and key.asc. The caller
 * switches the directory in atomically. Errors: 'publish-failed' (files, apt-ftparchive),
 * 'signing-failed', 'aborted'.
 */
export async function writeAptRepository(options: WriteAptRepositoryOptions): Promise<AptRepositoryResult> {
  const started = performance.now();
  throwIfAborted(options.signal);
  const plan = planAptRepository({
    binaries: options.packages,
    ...(options.sources === undefined ? {} : { sources: options.sources }),
    ...(options.keepVersions === undefined ? {} : { keepVersions: options.keepVersions }),
    ...(options.architectures === undefined ? {} : { architectures: options.architectures }),
  });
  await ensureEmptyDirectory(options.dir);
  const written: string[] = [];
  const put = async (relative: string, data: Buffer | string): Promise<void> => {
    await mkdir(path.dirname(path.join(options.dir, relative)), { recursive: true });
    await writeFile(path.join(options.dir, relative), data);
    written.push(relative);
  };

  try {
    for (const file of plan.pool) {
      throwIfAborted(options.signal);
      await mkdir(path.dirname(path.join(options.dir, file.to)), { recursive: true });
      await copyOrLink(file.from, path.join(options.dir, file.to));
      written.push(file.to);
    }
    const distDir = `dists/${options.dist}`;
    for (const [arch, entries] of plan.binaryIndex) {
      const packages = await scanIndex(options.dir, 'packages', entries, options.signal);
      await put(`${distDir}/main/binary-${arch}/Packages`, packages);
      await put(`${distDir}/main/binary-${arch}/Packages.gz`, gzipSync(packages, { level: 9 }));
    }
    if (plan.sourceIndex.length > 0) {
      const sources = await scanIndex(options.dir, 'sources', plan.sourceIndex.flat(), options.signal);
      await put(`${distDir}/main/source/Sources`, sources);
      await put(`${distDir}/main/source/Sources.gz`, gzipSync(sources, { level: 9 }));
    }
    // Release lists the checksums of what is under dists/<dist>, so it is made after the indexes
    // and printed to stdout rather than written inside the tree it scans.
    const release = await ftparchive(
      options.dir,
      ['release', ...releaseOptions(options, plan), distDir],
      options.signal,
    );
    await put(`${distDir}/Release`, release);
    const releaseBytes = Buffer.from(release);
    await put(`${distDir}/InRelease`, await options.signer.clearsign(releaseBytes, options.signal));
    await put(`${distDir}/Release.gpg`, await options.signer.detachSign(releaseBytes, options.signal));
    await put('key.asc', options.signer.publicKeyArmored);
  } catch (error) {
    if (isBuildfleetError(error)) throw error;
    throw new BuildfleetError('publish-failed', `writing the apt repository in ${options.dir} failed`, {
      cause: error,
      context: { dir: options.dir },
    });
  }
  return { plan, files: written.sort(), durationMs: Math.round(performance.now() - started) };
}

function releaseOptions(options: WriteAptRepositoryOptions, plan: AptRepositoryPlan): string[] {
  const origin = options.origin ?? 'buildfleet';
  const fields: Record<string, string> = {
    Origin: origin,
    Label: origin,
    Suite: options.dist,
    Codename: options.dist,
    Components: 'main',
    Architectures: plan.architectures.join(' '),
    Description: options.description ?? `${origin} ${options.dist}`,
  };
  return Object.entries(fields).flatMap(([field, value]) => ['-o', `APT::FTPArchive::Release::${field}=${value}`]);
}

async function ensureEmptyDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) {
    throw new BuildfleetError('publish-failed', `${dir}: the target of a new repository version must be empty`, {
      context: { dir },
    });
  }
}

/** Hard links when source and repository share a file system (no copy of large .debs), else a copy. */
async function copyOrLink(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM') throw error;
    await copyFile(from, to);
  }
}

/**
 * Runs `apt-ftparchive packages|sources pool` over a view holding only the given pool files
 * (symlinks at the same relative paths), so the index lists exactly the newest versions while
 * the real pool keeps older ones too. Filename/Directory fields come out relative to the root.
 */
async function scanIndex(
  repoDir: string,
  kind: 'packages' | 'sources',
  entries: readonly AptPoolFile[],
  signal: AbortSignal | undefined,
): Promise<string> {
  if (entries.length === 0) return '';
  const view = await mkdtemp(path.join(tmpdir(), 'bf-apt-view-'));
  try {
    for (const entry of entries) {
      await mkdir(path.dirname(path.join(view, entry.to)), { recursive: true });
      await symlink(path.resolve(repoDir, entry.to), path.join(view, entry.to));
    }
    return await ftparchive(view, [kind, 'pool'], signal);
  } finally {
    await rm(view, { recursive: true, force: true });
  }
}

/** Largest index (Packages, Sources, Release) read from apt-ftparchive: about a million packages. */
const MAX_INDEX_CHARS = 512 * 1024 * 1024;

async function ftparchive(cwd: string, args: string[], signal: AbortSignal | undefined): Promise<string> {
  try {
    // The output IS the index: runCommand keeps only the last 1 MiB by default, which cut the
    // Packages file of a 5,000-package repository at its start (apt: "section with no Package: header").
    const result = await runCommand('apt-ftparchive', args, {
      cwd,
      signal,
      timeoutMs: 10 * 60_000,
      keepOutputChars: MAX_INDEX_CHARS,
    });
    if (result.outputTruncated) {
      throw new BuildfleetError(
        'publish-failed',
        `apt-ftparchive ${args[0] ?? ''}: index larger than ${MAX_INDEX_CHARS} characters`,
      );
    }
    return result.stdout;
  } catch (error) {
    if (isBuildfleetError(error, 'aborted')) throw error;
    throw new BuildfleetError('publish-failed', `apt-ftparchive ${args[0] ?? ''} failed`, { cause: error });
  }
}
