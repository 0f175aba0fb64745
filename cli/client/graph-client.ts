/**
 * Where `buildfleet graph` gets the graph: the info service's `GET /api/graph`, or computed here
 * from a sources repo (a directory read as it is, or a git URL / `--ref` checked out through a
 * temporary mirror) with the same code the services use.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { createSourceMirror, loadSourceGraph } from '../../shared/sources/index.ts';
import type { ShownGraph } from '../format/graph.ts';
import { fetchError, responseError } from './http-client.ts';

export interface GraphQuery {
  ref?: string;
  dists?: string[];
}

/** The graph needs long for a big repo the first time; later requests of the commit are cached. */
const API_TIMEOUT_MS = 120_000;

export async function graphFromApi(
  base: string,
  query: GraphQuery,
  signal?: AbortSignal,
  token?: string,
): Promise<ShownGraph> {
  const params = new URLSearchParams();
  for (const dist of query.dists ?? []) params.append('dist', dist);
  if (query.ref !== undefined) params.set('ref', query.ref);
  const path = `/api/graph${params.size > 0 ? `?${params.toString()}` : ''}`;
  const signals = [AbortSignal.timeout(API_TIMEOUT_MS), ...(signal ? [signal] : [])];
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      headers: { accept: 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      signal: AbortSignal.any(signals),
    });
  } catch (error) {
    throw fetchError(error, base, path, signal);
  }
  if (!response.ok) throw await responseError(response, 'GET', path);
  const body = (await response.json().catch(() => undefined)) as Partial<ShownGraph> | undefined;
  if (!body || !Array.isArray(body.dists) || !Array.isArray(body.problems) || typeof body.commit !== 'string') {
    throw new BuildfleetError('message-invalid', `GET ${path}: the API answered something that is not a graph`);
  }
  return body as ShownGraph;
}

/**
 * A directory without `ref` is read as it is (uncommitted changes included; no commit);
 * anything else is checked out at `ref` (default HEAD) into a temporary directory, removed after.
 */
export async function graphFromSources(sources: string, query: GraphQuery, signal?: AbortSignal): Promise<ShownGraph> {
  const options = query.dists ? { dists: query.dists } : {};
  if (query.ref === undefined && (await isDirectory(sources))) {
    return loadSourceGraph(resolve(sources), options);
  }
  const url = (await isDirectory(sources)) ? resolve(sources) : sources;
  const temp = await mkdtemp(join(tmpdir(), 'buildfleet-graph-'));
  try {
    const logger = createLogger({ name: 'graph', level: 'fatal' });
    const repo = createSourceMirror({ cacheDir: join(temp, 'git'), logger });
    const commit = await repo.resolveRef({ url, ref: query.ref ?? 'HEAD', ...(signal ? { signal } : {}) });
    const dest = join(temp, 'checkout');
    await repo.checkout({ url, commit, dest, ...(signal ? { signal } : {}) });
    return { commit, ...(await loadSourceGraph(dest, options)) };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (found) => found.isDirectory(),
    () => false,
  );
}
