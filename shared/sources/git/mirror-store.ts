/**
 * One bare mirror of a sources repo under the cache directory, and the git operations on it.
 * Callers serialise everything that writes (create, fetch) per mirror; reading commits
 * (cat-file, archive, diff) may run beside a fetch, since git adds objects atomically.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError, isBuildfleetError } from '../../errors/index.ts';
import { runGit } from './git-command.ts';
import { mirrorDirName, normaliseRepoUrl, redactCredentials } from './repo-url.ts';
import { pathExists } from '../path-exists.ts';

export interface Mirror {
  /** The URL as handed to git. */
  url: string;
  /** The URL without credentials, for logs and messages. */
  shownUrl: string;
  /** The bare repository. */
  dir: string;
}

/** Refs that keep fetched commits reachable, so no gc can ever drop a commit a build may still need. */
const COMMIT_REF_PREFIX = 'refs/buildfleet/commits/';

/**
 * Lock files git leaves behind when it is killed (SIGKILL after an abort's grace period).
 * Any such file is stale when we hold the mirror's lock: one process owns a cache directory.
 */
const TOP_LEVEL_LOCKS = ['shallow.lock', 'packed-refs.lock', 'config.lock', 'HEAD.lock', 'FETCH_HEAD.lock'];

export function mirrorOf(cacheDir: string, url: string): Mirror {
  const normalised = normaliseRepoUrl(url);
  return { url: normalised, shownUrl: redactCredentials(normalised), dir: join(cacheDir, mirrorDirName(normalised)) };
}

/** Creates the bare mirror when missing: built under a temporary name and renamed, so a crash leaves no half mirror. */
export async function ensureMirror(mirror: Mirror, signal?: AbortSignal): Promise<void> {
  if (await pathExists(join(mirror.dir, 'HEAD'))) return;
  const parent = join(mirror.dir, '..');
  await mkdir(parent, { recursive: true });
  const temporary = `${mirror.dir}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await runGit(['init', '--bare', '--quiet', temporary], { signal });
    const settings: [string, string][] = [
      ['remote.origin.url', mirror.url],
      // No gc or maintenance behind our back while builds read from the mirror.
      ['gc.auto', '0'],
      ['maintenance.auto', 'false'],
      ['fetch.writeCommitGraph', 'false'],
    ];
    for (const [key, value] of settings) await runGit(['config', key, value], { cwd: temporary, signal });
    // info/attributes overrides the repo's .gitattributes: archive must give the files exactly as committed.
    await mkdir(join(temporary, 'info'), { recursive: true });
    await writeFile(join(temporary, 'info', 'attributes'), '* -export-ignore -export-subst\n');
    await rename(temporary, mirror.dir);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    // Another process created it first: that mirror is as good as ours.
    if (await pathExists(join(mirror.dir, 'HEAD'))) return;
    throw error;
  }
}

export async function hasCommit(mirror: Mirror, commit: string, signal?: AbortSignal): Promise<boolean> {
  const result = await runGit(['cat-file', '-e', `${commit}^{commit}`], {
    cwd: mirror.dir,
    signal,
    okExitCodes: [0, 1, 128],
  });
  return result.exitCode === 0;
}

/**
 * Fetches one commit: first just that commit (depth 1), which servers allow for any
 * reachable commit with protocol v2; when that fails, everything (branches and tags, the
 * history made complete), which also tells an unreachable repo from a missing commit.
 * @throws 'source-unavailable' when the repo cannot be fetched at all, 'source-commit-missing'
 */
export async function fetchCommit(
  mirror: Mirror,
  commit: string,
  options: { signal?: AbortSignal; timeoutMs: number },
): Promise<void> {
  await removeStaleLocks(mirror);
  try {
    await runGit(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--depth',
        '1',
        'origin',
        `+${commit}:${COMMIT_REF_PREFIX}${commit}`,
      ],
      { cwd: mirror.dir, ...options },
    );
    if (await hasCommit(mirror, commit, options.signal)) return;
  } catch (error) {
    if (isBuildfleetError(error, 'aborted')) throw error;
    // Not fatal: the server may refuse fetches by commit id, or not have it. The full fetch decides.
  }
  await fetchEverything(mirror, options);
  if (!(await hasCommit(mirror, commit, options.signal))) throw commitMissing(mirror, commit);
  await runGit(['update-ref', `${COMMIT_REF_PREFIX}${commit}`, commit], { cwd: mirror.dir, signal: options.signal });
}

/** All branches and tags, with complete history (a shallow mirror is deepened). */
export async function fetchEverything(
  mirror: Mirror,
  options: { signal?: AbortSignal; timeoutMs: number },
): Promise<void> {
  await removeStaleLocks(mirror);
  const shallow = await runGit(['rev-parse', '--is-shallow-repository'], { cwd: mirror.dir, signal: options.signal });
  const unshallow = shallow.stdout.trim() === 'true' ? ['--unshallow'] : [];
  try {
    await runGit(
      [
        'fetch',
        '--quiet',
        '--prune',
        '--no-write-fetch-head',
        ...unshallow,
        'origin',
        '+refs/heads/*:refs/heads/*',
        '+refs/tags/*:refs/tags/*',
      ],
      { cwd: mirror.dir, ...options },
    );
  } catch (error) {
    throw unavailable(mirror, error);
  }
}

function commitMissing(mirror: Mirror, commit: string): BuildfleetError {
  return new BuildfleetError('source-commit-missing', `commit ${commit} does not exist in ${mirror.shownUrl}`, {
    context: { url: mirror.shownUrl, commit },
  });
}

/** Any failure to talk to the repo, time-outs included, is worth a retry; an abort stays an abort. */
export function unavailable(mirror: Mirror, error: unknown): unknown {
  if (isBuildfleetError(error, 'aborted')) return error;
  const detail = isBuildfleetError(error) ? error.message : String(error);
  return new BuildfleetError('source-unavailable', `cannot fetch from ${mirror.shownUrl}: ${detail}`, {
    context: { url: mirror.shownUrl, ...(isBuildfleetError(error) ? error.context : {}) },
  });
}

async function removeStaleLocks(mirror: Mirror): Promise<void> {
  for (const name of TOP_LEVEL_LOCKS) await rm(join(mirror.dir, name), { force: true });
  const refsDir = join(mirror.dir, 'refs');
  const entries = await readdir(refsDir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith('.lock')) await rm(join(entry.parentPath, entry.name), { force: true });
  }
}
