/** Rendering the dependency graph for people (`buildfleet graph`): text, Graphviz, `--why`. Pure. */
import type { DistGraph, GraphEdge, ProjectWhy, SourceGraph } from '../../shared/sources/index.ts';

/** What `graph` prints: the graph, and the commit it is of (absent for a directory read as it is). */
export interface ShownGraph extends SourceGraph {
  commit?: string;
}

const edgeLine = (edge: GraphEdge): string => `${edge.from} -> ${edge.to} (${edge.packages.join(', ')})`;
const cycleLine = (cycle: readonly string[]): string => [...cycle, cycle[0] ?? ''].join(' -> ');

export function formatGraph(graph: ShownGraph): string {
  const lines = [`commit ${graph.commit ?? '(working tree)'}`];
  for (const dist of graph.dists) {
    lines.push('', `dist ${dist.dist}: ${count(dist.nodes.length, 'package')}, ${count(dist.edges.length, 'edge')}`);
    for (const node of dist.nodes) {
      lines.push(
        `  ${node.project} [${node.kind} ${node.arches.join(' ')}] provides ${node.provides.join(', ') || '-'}`,
      );
    }
    if (dist.edges.length > 0) lines.push('  edges (dependant -> dependency (packages)):');
    for (const edge of dist.edges) lines.push(`    ${edgeLine(edge)}`);
    if (dist.cycles.length > 0) lines.push('  cycles:');
    for (const cycle of dist.cycles) lines.push(`    ${cycleLine(cycle)}`);
  }
  lines.push(...problemLines(graph));
  return `${lines.join('\n')}\n`;
}

function problemLines(graph: SourceGraph): string[] {
  if (graph.problems.length === 0) return [];
  return [
    '',
    'not in the graph (cannot be read):',
    ...graph.problems.map((p) => `  ${p.project}: [${p.code}] ${p.message}`),
  ];
}

/** A Graphviz digraph: one cluster per dist, an edge per dependency labelled with its packages. */
export function formatDot(graph: ShownGraph): string {
  const lines = ['digraph buildfleet {', '  rankdir=LR;', '  node [shape=box];'];
  for (const [index, dist] of graph.dists.entries()) {
    lines.push(`  subgraph cluster_${index} {`, `    label=${quote(dist.dist)};`);
    const cyclic = new Set(dist.cycles.flat());
    for (const node of dist.nodes) {
      const style = cyclic.has(node.project) ? ', color=red' : '';
      lines.push(
        `    ${id(dist, node.project)} [label=${quote(`${node.project}\n${node.provides.join(' ')}`)}${style}];`,
      );
    }
    lines.push('  }');
    for (const edge of dist.edges) {
      lines.push(`  ${id(dist, edge.from)} -> ${id(dist, edge.to)} [label=${quote(edge.packages.join(' '))}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const id = (dist: DistGraph, project: string): string => quote(`${dist.dist}:${project}`);

/** A DOT string literal: backslashes and quotes escaped, newlines as \n. */
function quote(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

/** `--why <project>`: per dist, what it needs of ours, what needs it, what comes from outside, its cycles. */
export function formatWhy(answers: readonly ProjectWhy[]): string {
  const lines: string[] = [];
  for (const why of answers) {
    if (lines.length > 0) lines.push('');
    lines.push(`${why.project} in dist ${why.dist} provides ${why.provides.join(', ') || '-'}`);
    lines.push(`  waits for (needs of ours): ${why.dependencies.length === 0 ? 'nothing' : ''}`);
    for (const edge of why.dependencies) lines.push(`    ${edge.to} (${edge.packages.join(', ')})`);
    lines.push(`  waited for by: ${why.dependants.length === 0 ? 'nothing' : ''}`);
    for (const edge of why.dependants) lines.push(`    ${edge.from} (${edge.packages.join(', ')})`);
    lines.push(`  from the dist's repositories: ${why.external.join(', ') || 'nothing'}`);
    if (why.cycles.length === 0) lines.push('  in no cycle');
    for (const cycle of why.cycles) lines.push(`  in the cycle ${cycleLine(cycle)}`);
  }
  return `${lines.map((line) => line.trimEnd()).join('\n')}\n`;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
