import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BuildfleetError, isBuildfleetError } from '../errors/index.ts';
import { sendError } from '../http/index.ts';
import type { ArtifactStore } from '../storage/index.ts';
import { RepoFormats, versionPrefix, type RepoFormat } from './layout.ts';
import { readPointer, type RepoPointer } from './pointer.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.asc': 'text/plain; charset=utf-8',
  '.gpg': 'application/pgp-signature',
  '.gz': 'application/gzip',
  '.xz': 'application/x-xz',
  '.xml': 'application/xml',
  '.json': 'application/json',
  '.deb': 'application/vnd.debian.binary-package',
  '.rpm': 'application/x-rpm',
};

export interface RepoPath {
  repoKey: string;
  format: RepoFormat;
  file: string;
}

/** Pure: `/<repoKey...>/<format>/<path>` -> its parts; the first format segment ends the repo key. */
export function parseRepoPath(path: string): RepoPath | undefined {
  return repoPathCandidates(path)[0];
}

/**
 * Pure: every reading of `/<repoKey...>/<format>/<path>`, the shortest repo key first. A repo key
 * may itself hold a format name (`projects/images/bookworm/images/index.json`): the handler
 * serves the first reading whose repository exists.
 */
export function repoPathCandidates(path: string): RepoPath[] {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return [];
  return segments.flatMap((segment, at) =>
    at > 0 && at < segments.length - 1 && (RepoFormats as readonly string[]).includes(segment)
      ? [
          {
            repoKey: segments.slice(0, at).join('/'),
            format: segment as RepoFormat,
            file: segments.slice(at + 1).join('/'),
          },
        ]
      : [],
  );
}

/**
 * Serves published repositories from the artifact store: GET/HEAD
 * `<mount>/<repoKey>/<format>/<file>` answers from the live version; a file the live version
 * does not have is looked up in the previous one, so a client that read the old top metadata
 * just before a switch still gets the files it names. Returns false for paths outside `mount`.
 */
export function createRepoRequestHandler(
  store: ArtifactStore,
  mount = '/repos',
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  return async (request, response) => {
    // The path as sent: `new URL` would read `//host/...` as a host, and a decoding error must be a 400, not a 500.
    const pathname = (request.url ?? '/').split(/[?#]/, 1)[0] ?? '/';
    if (!pathname.startsWith(`${mount}/`)) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendError(response, new BuildfleetError('request-invalid', `${request.method} is not allowed here`), 405);
      return true;
    }
    const missing = (): void =>
      sendError(response, new BuildfleetError('not-found', `no published repository file at ${pathname}`));
    let path: string;
    try {
      path = decodeURIComponent(pathname.slice(mount.length));
    } catch {
      sendError(response, new BuildfleetError('request-invalid', 'the path is not valid percent-encoding'), 400);
      return true;
    }
    const candidates = repoPathCandidates(path);
    try {
      let target: RepoPath | undefined;
      let pointer: RepoPointer | undefined;
      for (const candidate of candidates) {
        pointer = await readPointer(store, candidate.repoKey, candidate.format);
        if (pointer) {
          target = candidate;
          break;
        }
      }
      if (!target || !pointer) {
        missing();
        return true;
      }
      for (const version of [pointer.version, pointer.previous]) {
        if (version === undefined) continue;
        const key = `${versionPrefix(target.repoKey, target.format, version)}/${target.file}`;
        if (!(await store.exists(key))) continue;
        const { size } = await store.stat(key);
        const extension = /\.[^./]+$/.exec(target.file)?.[0] ?? '';
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
          'content-length': String(size),
          'x-buildfleet-repo-version': version,
        });
        if (request.method === 'HEAD') response.end();
        else await pipeline(await store.getStream(key), response);
        return true;
      }
      missing();
    } catch (error) {
      if (isBuildfleetError(error, 'key-invalid')) missing();
      else sendError(response, error, 502);
    }
    return true;
  };
}
