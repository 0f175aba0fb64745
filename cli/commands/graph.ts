/**
 * `buildfleet graph [--dist D] [--json | --dot] [--why <project>]`: the dependency graph of the
 * sources repo (docs/graph.md), from the info service's API or computed here with `--sources`.
 */
import { Option, type Command } from 'commander';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { whyOf } from '../../shared/sources/index.ts';
import { chooseConnection, loadClientConfig } from '../client/connect.ts';
import { tokenFor } from '../client/credentials.ts';
import { graphFromApi, graphFromSources, type GraphQuery } from '../client/graph-client.ts';
import { formatDot, formatGraph, formatWhy, type ShownGraph } from '../format/graph.ts';
import { interruptSignal } from './client-options.ts';

interface GraphOptions {
  api?: string;
  sources?: string;
  ref?: string;
  dist?: string[];
  json?: boolean;
  dot?: boolean;
  why?: string;
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description(
      'show the dependency graph of the sources repo per dist: packages with what they provide, edges ' +
        '`dependant -> dependency (packages)`, cycles; --why <project> for one package',
    )
    .option('--dist <dist>', 'only this dist (repeat for several)', (value: string, previous: string[] = []) => [
      ...previous,
      value,
    ])
    .option(
      '--why <project>',
      'what the project waits for (and which packages make each edge), what waits for it, its cycles',
    )
    .addOption(new Option('--json', 'print the graph (or the --why answer) as JSON').conflicts('dot'))
    .addOption(new Option('--dot', 'print a Graphviz digraph').conflicts(['json', 'why']))
    .option('--api <url>', 'HTTP API of the cluster (env BUILDFLEET_API; default http://127.0.0.1:8080)')
    .option('--sources <dir|git url>', 'compute the graph here from a sources repo instead of asking the API')
    .option(
      '--ref <ref>',
      "branch, tag or commit (default: the API's branch; with --sources a directory as it is, a URL at HEAD)",
    )
    .addHelpText('after', '\nWith --sources a directory is read as it is unless --ref is given. See docs/graph.md.')
    .action(async (options: GraphOptions) => {
      const { signal, dispose } = interruptSignal();
      try {
        const graph = await fetchGraph(options, signal);
        process.stdout.write(render(graph, options));
      } finally {
        dispose();
      }
    });
}

async function fetchGraph(options: GraphOptions, signal: AbortSignal): Promise<ShownGraph> {
  const query: GraphQuery = {
    ...(options.ref !== undefined ? { ref: options.ref } : {}),
    ...(options.dist !== undefined ? { dists: options.dist } : {}),
  };
  if (options.sources !== undefined) {
    if (options.api !== undefined) throw new BuildfleetError('usage', 'give either --sources or --api, not both');
    return graphFromSources(options.sources, query, signal);
  }
  const env = loadClientConfig();
  const connection = chooseConnection(options.api !== undefined ? { api: options.api } : {}, env);
  if (connection.kind !== 'http') {
    throw new BuildfleetError(
      'usage',
      'graph asks the HTTP API (--api / BUILDFLEET_API) or computes it here (--sources <dir|git url>); Kafka is not asked',
    );
  }
  return graphFromApi(connection.url, query, signal, await tokenFor(env, connection.url));
}

function render(graph: ShownGraph, options: GraphOptions): string {
  if (options.why !== undefined) {
    const project = options.why.replace(/\/+$/, '');
    const answers = whyOf(graph.dists, project);
    if (answers.length === 0) {
      const problem = graph.problems.find((p) => p.project === project);
      throw new BuildfleetError(
        'not-found',
        problem
          ? `${project} is not in the graph: [${problem.code}] ${problem.message}`
          : `${project} is not a package of ${options.dist ? `dist ${options.dist.join(', ')}` : 'any dist'} in the graph`,
        { context: { project } },
      );
    }
    return options.json ? `${JSON.stringify(answers, null, 2)}\n` : formatWhy(answers);
  }
  if (options.dot) return formatDot(graph);
  if (options.json) return `${JSON.stringify(graph, null, 2)}\n`;
  return formatGraph(graph);
}
