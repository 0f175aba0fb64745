/**
 * The SourceRepo adapter: a bare mirror per sources repo URL under a cache directory,
 * fetched one commit at a time as builds ask for them, with commits written out by
 * `git archive`. Fetches into one mirror are serialised in this process; checkouts of
 * different commits run in parallel. docs/sources.md describes the behaviour for operators.
 */
import { resolve } from 'node:path';
import type { Logger } from '../../log/index.ts';
import { BuildfleetError, throwIfAborted } from '../../errors/index.ts';
import { runGit } from './git-command.ts';
import { KeyedLock } from './keyed-lock.ts';
import { writeCommitFiles } from './materialise.ts';
import {
  ensureMirror,
  fetchCommit,
  fetchEverything,
  hasCommit,
  mirrorOf,
  unavailable,
  type Mirror,
} from './mirror-store.ts';
import type { ChangedPathsRequest, CheckoutRequest, CheckoutResult, ResolveRefRequest, SourceRepo } from './port.ts';
import { looksLikeShortCommitId, lsRemotePatterns, parseLsRemote, pickRef } from './remote-refs.ts';
import { isFullCommitId } from './repo-url.ts';

export interface SourceMirrorOptions {
  /** Directory holding one bare mirror per repo URL; created when missing. Owned by one process. */
  cacheDir: string;
  logger: Logger;
  /** Time limit of one network operation (ls-remote, one fetch); exceeding it is 'source-unavailable'. @default 600000 */
  networkTimeoutMs?: number;
}

const DEFAULT_NETWORK_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Shared by every mirror object of this process and keyed by the mirror directory, so two
 * objects over the same cache directory (several runners in one `buildfleet up`) still
 * fetch one at a time. Separate processes must use separate cache directories.
 */
const fetchLock = new KeyedLock();

export function createSourceMirror(options: SourceMirrorOptions): SourceRepo {
  const cacheDir = resolve(options.cacheDir);
  const logger = options.logger.child({ component: 'sources' });
  const timeoutMs = options.networkTimeoutMs ?? DEFAULT_NETWORK_TIMEOUT_MS;

  /** Makes sure the mirror holds `commit`; true when it had to be fetched. */
  async function ensureCommit(mirror: Mirror, commit: string, signal?: AbortSignal): Promise<boolean> {
    // Fast path without the lock; on a missing mirror git fails and hasCommit says false.
    if (await hasCommit(mirror, commit, signal)) return false;
    return fetchLock.run(
      mirror.dir,
      async () => {
        await ensureMirror(mirror, signal);
        // Someone queued before us may have fetched it meanwhile.
        if (await hasCommit(mirror, commit, signal)) return false;
        const started = performance.now();
        await fetchCommit(mirror, commit, { signal, timeoutMs });
        logger.info({ url: mirror.shownUrl, commit, durationMs: elapsed(started) }, 'fetched commit into mirror');
        return true;
      },
      signal,
    );
  }

  return {
    async checkout(request: CheckoutRequest): Promise<CheckoutResult> {
      throwIfAborted(request.signal);
      const started = performance.now();
      const mirror = mirrorOf(cacheDir, request.url);
      const commit = fullCommitId(mirror, request.commit);
      const dest = resolve(request.dest);
      const fetched = await ensureCommit(mirror, commit, request.signal);
      await writeCommitFiles(mirror, commit, dest, request.signal);
      const durationMs = elapsed(started);
      logger.debug({ url: mirror.shownUrl, commit, dest, fetched, durationMs }, 'checked out commit');
      return { dir: dest, commit, durationMs, fetched };
    },

    async resolveRef(request: ResolveRefRequest): Promise<string> {
      throwIfAborted(request.signal);
      const mirror = mirrorOf(cacheDir, request.url);
      const ref = (request.ref ?? 'HEAD').trim();
      if (isFullCommitId(ref.toLowerCase())) {
        const commit = ref.toLowerCase();
        await ensureCommit(mirror, commit, request.signal);
        return commit;
      }
      let listing;
      try {
        listing = await runGit(['ls-remote', '--', mirror.url, ...lsRemotePatterns(ref)], {
          signal: request.signal,
          timeoutMs,
        });
      } catch (error) {
        throw unavailable(mirror, error);
      }
      const found = pickRef(parseLsRemote(listing.stdout), ref);
      if (found !== undefined) return found;
      if (looksLikeShortCommitId(ref)) return resolveShortCommitId(mirror, ref, request.signal);
      throw new BuildfleetError('source-commit-missing', `ref "${ref}" does not exist in ${mirror.shownUrl}`, {
        context: { url: mirror.shownUrl, ref },
      });
    },

    async changedPaths(request: ChangedPathsRequest): Promise<string[]> {
      throwIfAborted(request.signal);
      const mirror = mirrorOf(cacheDir, request.url);
      const from = fullCommitId(mirror, request.from);
      const to = fullCommitId(mirror, request.to);
      await ensureCommit(mirror, from, request.signal);
      await ensureCommit(mirror, to, request.signal);
      // Trees only: works between two shallow commits. No rename detection, so a move names both places.
      const diff = await runGit(['diff', '--name-only', '-z', '--no-renames', '--no-ext-diff', from, to], {
        cwd: mirror.dir,
        signal: request.signal,
      });
      return [...new Set(diff.stdout.split('\0').filter((path) => path !== ''))].sort();
    },
  };

  /** An abbreviated id needs the whole history to be judged unique, so everything is fetched first. */
  async function resolveShortCommitId(mirror: Mirror, ref: string, signal?: AbortSignal): Promise<string> {
    await fetchLock.run(
      mirror.dir,
      async () => {
        await ensureMirror(mirror, signal);
        await fetchEverything(mirror, { signal, timeoutMs });
      },
      signal,
    );
    const parsed = await runGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
      cwd: mirror.dir,
      signal,
      okExitCodes: [0, 1, 128],
    });
    const commit = parsed.stdout.trim();
    if (parsed.exitCode === 0 && isFullCommitId(commit)) return commit;
    throw new BuildfleetError(
      'source-commit-missing',
      `"${ref}" names no single commit in ${mirror.shownUrl} (no such ref; as a short commit id unknown or ambiguous)`,
      { context: { url: mirror.shownUrl, ref } },
    );
  }
}

function fullCommitId(mirror: Mirror, commit: string): string {
  const normalised = commit.trim().toLowerCase();
  if (isFullCommitId(normalised)) return normalised;
  throw new BuildfleetError(
    'source-commit-missing',
    `"${commit}" is not a full commit id (40 hex digits), so it names no commit of ${mirror.shownUrl}`,
    { context: { url: mirror.shownUrl, commit } },
  );
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
