/**
 * Names for a sources repo URL: the form handed to git, the mirror directory it is cached
 * in, and a form safe to log (credentials in a URL must never reach a log line or an error).
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Full commit ids only: a build names exactly one commit. SHA-256 repositories are not supported. */
const FULL_COMMIT_ID = /^[0-9a-f]{40}$/;

export function isFullCommitId(value: string): boolean {
  return FULL_COMMIT_ID.test(value);
}

/**
 * An absolute path becomes a file:// URL: git then uses its transport protocol (shallow and
 * exact-commit fetches work) instead of copying the object store as a local clone does.
 */
export function normaliseRepoUrl(url: string): string {
  const trimmed = url.trim();
  if (isAbsolute(trimmed)) return pathToFileURL(trimmed).href;
  // Trailing slashes do not change the repo; a bare `file:///` keeps its own.
  return trimmed.replace(/([^/:])\/+$/, '$1');
}

/** `https://user:token@host/x.git` -> `https://***@host/x.git`, anywhere in a text. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/**
 * `https://git.example.com/team/sources.git` -> `git.example.com-team-sources-1f2e3d4c5b6a7988`:
 * readable enough to find by eye in the cache, unique through the hash of the whole URL.
 */
export function mirrorDirName(url: string): string {
  const normalised = normaliseRepoUrl(url);
  const hash = createHash('sha256').update(normalised).digest('hex').slice(0, 16);
  const slug = redactCredentials(normalised)
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/^\*\*\*@/, '')
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(-48)
    .replace(/^[-.]+/, '');
  return `${slug === '' ? 'repo' : slug}-${hash}`;
}
