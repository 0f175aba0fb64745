/**
 * Reading the graph's nodes from a checkout (the thin I/O shell around graph.ts): every package
 * once, what it provides and needs read from its build file, then the pure computation.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError, toBuildfleetError } from '../../errors/index.ts';
import { listDists, loadDistIfDefined } from '../metadata/dist.ts';
import { loadPackage, type DistCache, type PackageSpec } from '../metadata/package.ts';
import { listPackages } from '../metadata/scan.ts';
import { graphOf } from './graph.ts';
import { dockerNeeds, kiwiProvidesNeeds } from './image-names.ts';
import { debianProvidesNeeds, rpmProvidesNeeds, type ProvidesNeeds } from './package-names.ts';
import type { GraphNode, SourceGraph } from './types.ts';

export interface LoadSourceGraphOptions {
  /** Only these dists. @default every dist of dists/ */
  dists?: readonly string[];
  /** Packages read at the same time. @default 32 */
  concurrency?: number;
}

/**
 * The graph of the checkout at `repoDir`. A package whose metadata or build file cannot be read
 * is a problem (it is not in the graph) and does not stop the others.
 * @throws BuildfleetError 'request-invalid' naming `dist` when a dist asked for is not in dists/
 */
export async function loadSourceGraph(repoDir: string, options: LoadSourceGraphOptions = {}): Promise<SourceGraph> {
  const defined = await listDists(repoDir);
  const wanted = options.dists === undefined ? defined : [...new Set(options.dists)];
  requireDefinedDists(wanted, defined);
  const distCache: DistCache = new Map();
  const projects = await listPackages(repoDir);
  const nodes: GraphNode[][] = new Array<GraphNode[]>(projects.length);
  const problems: SourceGraph['problems'] = [];
  const wantedSet = new Set(wanted);
  let nextIndex = 0;
  async function worker(): Promise<void> {
    for (let index = nextIndex++; index < projects.length; index = nextIndex++) {
      const project = projects[index] ?? '';
      try {
        const spec = await loadPackage({ repoDir, packageDir: project, distCache });
        nodes[index] = nodesOf(spec, await providesNeedsOf(spec), wantedSet);
      } catch (error) {
        const failure = toBuildfleetError(error);
        problems.push({ project, code: failure.code, message: failure.message });
        nodes[index] = [];
      }
    }
  }
  const workers = Math.max(1, Math.min(options.concurrency ?? 32, projects.length));
  await Promise.all(Array.from({ length: workers }, () => worker()));
  const graph = graphOf(nodes.flat());
  // A dist without packages still answers, with an empty graph.
  const dists = await Promise.all(
    wanted.map(async (dist) => {
      const found = graph.find((candidate) => candidate.dist === dist) ?? { dist, nodes: [], edges: [], cycles: [] };
      // A dist file that does not read is reported by each package's problem; the default mode stands.
      const spec = await (distCache.get(dist) ?? loadDistIfDefined({ repoDir, name: dist })).catch(() => undefined);
      return { ...found, rebuildDependants: spec?.rebuildDependants ?? 'transitive' };
    }),
  );
  return {
    dists: dists.sort((a, b) => (a.dist < b.dist ? -1 : a.dist > b.dist ? 1 : 0)),
    problems: problems.sort((a, b) => (a.project < b.project ? -1 : a.project > b.project ? 1 : 0)),
  };
}

/** @throws BuildfleetError 'request-invalid' naming the field `dist` when `wanted` has a dist not in `defined` */
export function requireDefinedDists(wanted: readonly string[], defined: readonly string[]): void {
  const unknown = wanted.filter((dist) => !defined.includes(dist));
  if (unknown.length === 0) return;
  throw new BuildfleetError(
    'request-invalid',
    `dist "${unknown.join('", "')}" is not defined in the sources repo (dists/<name>.yml); ` +
      `known: ${defined.join(', ') || 'none'}`,
    { context: { field: 'dist', dists: unknown } },
  );
}

function nodesOf(spec: PackageSpec, names: ProvidesNeeds, dists: ReadonlySet<string>): GraphNode[] {
  const archesByDist = new Map<string, string[]>();
  for (const target of spec.targets) {
    if (!dists.has(target.dist)) continue;
    archesByDist.set(target.dist, [...(archesByDist.get(target.dist) ?? []), target.arch]);
  }
  return [...archesByDist].map(([dist, arches]) => ({
    project: spec.project,
    dist,
    arches: arches.sort(),
    kind: spec.kind,
    provides: names.provides,
    needs: names.needs,
    ...(spec.rebuild.onDependencyChange ? {} : { rebuildOnDependencyChange: false }),
  }));
}

/** Reads the package's build file; what a kind provides and needs is in docs/graph.md. */
async function providesNeedsOf(spec: PackageSpec): Promise<ProvidesNeeds> {
  const read = (file: string | undefined): Promise<string> => {
    if (file === undefined) {
      throw new BuildfleetError('metadata-invalid', `${spec.project}: no build file for kind ${spec.kind}`);
    }
    return readFile(join(spec.dir, file), 'utf8');
  };
  switch (spec.kind) {
    case 'deb': {
      const file = spec.files.debianControl ?? spec.files.dsc;
      return debianProvidesNeeds(await read(file), `${spec.project}/${file ?? ''}`);
    }
    case 'rpm':
      return rpmProvidesNeeds(await read(spec.files.spec));
    case 'docker':
      return { provides: [spec.docker.name ?? spec.name], needs: dockerNeeds(await read(spec.files.dockerfile)) };
    case 'kiwi':
      return kiwiProvidesNeeds(await read(spec.files.kiwiDescription));
    case 'noop':
      return {
        provides: spec.noop.provides,
        needs: spec.noop.needs.map((name) => ({ relation: name, names: [name] })),
      };
    default: {
      const unknownKind: never = spec.kind;
      throw new BuildfleetError('kind-unsupported', `unknown kind ${String(unknownKind)}`);
    }
  }
}
