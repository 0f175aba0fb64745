import { constants } from 'node:fs';
import { access, copyFile, mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { BuildfleetError, throwIfAborted, toBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { Signer } from '../signing/index.ts';
import { readRpmSigningKeyId } from './rpm-header.ts';
import { planRpmRepository, type PlannedRpm, type RpmPackage } from './rpm-plan.ts';

export interface WriteRpmRepositoryOptions {
  /** Where the new repository version is written; must be missing or empty. */
  dir: string;
  /** Every rpm the version may hold: the previous version's files first, then new build results. */
  packages: readonly RpmPackage[];
  /** Signs the rpms (through its GNUPGHOME) and repodata/repomd.xml. */
  signer: Signer;
  /**
   * The repository version this one replaces. Its repodata is handed to `createrepo_c --update`
   * and its rpms already signed by `signer` are copied without signing again.
   * @default none: every rpm is signed and read afresh
   */
  previousDir?: string;
  /** Versions kept per package name and architecture. @default 3 */
  keepVersions?: number;
  signal?: AbortSignal;
}

export interface RpmRepositoryVersion {
  /** Paths of the rpms inside `dir`, sorted. */
  files: string[];
  /** Packages offered but left out by retention or replaced by a later file of the same name. */
  dropped: RpmPackage[];
  /** How many rpms were signed now; the rest came signed from `previousDir`. */
  signedCount: number;
  timingsMs: { copy: number; sign: number; metadata: number; total: number };
}

/** Public key files at the repository root; clients point `gpgkey=` at one of them. */
const RPM_KEY_FILES = ['key.asc', 'RPM-GPG-KEY-buildfleet'] as const;
// Keeps each rpmsign command line well under the kernel's argument limit.
const SIGN_BATCH = 200;
const COMMAND_TIMEOUT_MS = 10 * 60_000;

/**
 * Writes a complete signed rpm-md repository version into the empty directory `dir`: the rpms
 * planned by planRpmRepository (copies, signed with `rpmsign --addsign`), repodata/ from
 * `createrepo_c`, repodata/repomd.xml.asc (detached, armored) and the public key. The caller
 * switches readers to `dir` once this resolves; on failure `dir` is left for the caller to remove.
 * Errors: 'signing-failed' (rpmsign or the signer), 'publish-failed' (files, createrepo_c),
 * 'metadata-invalid' (a package field unusable as a path), 'aborted'.
 */
export async function writeRpmRepository(options: WriteRpmRepositoryOptions): Promise<RpmRepositoryVersion> {
  const { dir, signer, signal } = options;
  const started = performance.now();
  const plan = planRpmRepository(options.packages, { keepVersions: options.keepVersions });
  await ensureEmptyDirectory(dir);

  const toSign: string[] = [];
  for (const planned of plan.files) {
    throwIfAborted(signal);
    const destination = join(dir, planned.target);
    const reused = await isSignedByUs(planned, options.previousDir, signer, signal);
    await publishStep(`copy ${planned.package.path}`, async () => {
      await mkdir(join(destination, '..'), { recursive: true });
      await copyFile(planned.package.path, destination, constants.COPYFILE_FICLONE);
      // createrepo_c --update reuses an rpm's metadata only when size and mtime are unchanged.
      if (reused) {
        const { atime, mtime } = await stat(planned.package.path);
        await utimes(destination, atime, mtime);
      }
    });
    if (!reused) toSign.push(destination);
  }
  const copied = performance.now();

  for (let i = 0; i < toSign.length; i += SIGN_BATCH) {
    await signRpms(toSign.slice(i, i + SIGN_BATCH), signer, signal);
  }
  const signed = performance.now();

  await createMetadata(dir, options.previousDir, signal);
  const repomd = await publishStep('read repomd.xml', () => readFile(join(dir, 'repodata', 'repomd.xml')));
  let signature: Buffer;
  try {
    signature = await signer.detachSign(repomd, signal);
  } catch (error) {
    throw asSigningError(error, 'signing repodata/repomd.xml failed');
  }
  await publishStep('write signature and key', async () => {
    await writeFile(join(dir, 'repodata', 'repomd.xml.asc'), signature);
    for (const name of RPM_KEY_FILES) await writeFile(join(dir, name), signer.publicKeyArmored);
  });
  const done = performance.now();

  return {
    files: plan.files.map((planned) => planned.target),
    dropped: plan.dropped,
    signedCount: toSign.length,
    timingsMs: {
      copy: Math.round(copied - started),
      sign: Math.round(signed - copied),
      metadata: Math.round(done - signed),
      total: Math.round(done - started),
    },
  };
}

async function ensureEmptyDirectory(dir: string): Promise<void> {
  const entries = await publishStep(`create ${dir}`, async () => {
    await mkdir(dir, { recursive: true });
    return readdir(dir);
  });
  if (entries.length > 0) {
    throw new BuildfleetError('publish-failed', `${dir} is not empty; a repository version is written once`, {
      retriable: false,
      context: { dir, entries: entries.slice(0, 5) },
    });
  }
}

/** True when the file is the previous version's copy at the same path, signed by this key. */
async function isSignedByUs(
  planned: PlannedRpm,
  previousDir: string | undefined,
  signer: Signer,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (previousDir === undefined) return false;
  const where = relative(resolve(previousDir), resolve(planned.package.path));
  if (where !== planned.target.split('/').join(sep)) return false;
  const keyId = await readRpmSigningKeyId(planned.package.path, signal);
  return keyId !== undefined && signer.fingerprint.toLowerCase().endsWith(keyId);
}

async function signRpms(files: string[], signer: Signer, signal: AbortSignal | undefined): Promise<void> {
  try {
    await runCommand(
      'rpmsign',
      [
        '--addsign',
        '--define',
        `_gpg_name ${signer.fingerprint}`,
        '--define',
        `_gpg_path ${signer.gnupgHome}`,
        // rpm's default is gpg2, which Debian does not install under that name.
        '--define',
        '__gpg /usr/bin/gpg',
        // A service has no terminal: gpg must never wait for a pinentry.
        '--define',
        '_gpg_sign_cmd_extra_args --batch --no-tty --pinentry-mode loopback',
        ...files,
      ],
      { signal, timeoutMs: COMMAND_TIMEOUT_MS, env: { GNUPGHOME: signer.gnupgHome } },
    );
  } catch (error) {
    throw asSigningError(error, `rpmsign failed for ${files.length} rpm(s)`);
  }
}

async function createMetadata(dir: string, previousDir: string | undefined, signal: AbortSignal | undefined) {
  const previousRepomd = previousDir === undefined ? undefined : join(previousDir, 'repodata', 'repomd.xml');
  const reusable = previousRepomd !== undefined && (await exists(previousRepomd));
  const args = [
    '--no-database', // dnf reads the XML; the sqlite files only served yum 3
    '--general-compress-type=gz', // every dnf and yum version reads gzip
    '--checksum=sha256',
    ...(reusable && previousDir !== undefined ? ['--update', '--update-md-path', previousDir] : []),
    dir,
  ];
  try {
    await runCommand('createrepo_c', args, { signal, timeoutMs: COMMAND_TIMEOUT_MS });
  } catch (error) {
    const wrapped = toBuildfleetError(error);
    if (wrapped.code === 'aborted') throw wrapped;
    throw new BuildfleetError('publish-failed', `createrepo_c failed for ${dir}`, {
      cause: wrapped,
      context: { dir, previousDir: previousDir ?? null },
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function asSigningError(error: unknown, message: string): BuildfleetError {
  const wrapped = toBuildfleetError(error);
  if (wrapped.code === 'aborted' || wrapped.code === 'signing-failed') return wrapped;
  return new BuildfleetError('signing-failed', message, { cause: wrapped });
}

async function publishStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw new BuildfleetError('publish-failed', `${what}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
