/**
 * The dependency graph benchmark (issue 11). A sources repo of `--packages` noop packages whose
 * provides/needs make a random DAG of `--depth` levels (seeded: runs compare), committed.
 *
 * Mode 1 (default): the time to compute the graph of that commit from a checkout, as the
 * info service and the scheduler do it (loadSourceGraph; goal <= 1 s for 1,000 packages),
 * min/median/max over `--runs` runs after one untimed warm-up, plus the checkout itself and a
 * cached answer.
 *
 * Mode 2 (`--build`): builds all of it on real Kafka with 4 runner processes, every package
 * submitted with `batch` = the projects it needs, and compares the wall time to the ideal (graph-build.ts).
 *
 *   node --import tsx test/bench/graph.ts [--packages 1000] [--depth 12] [--seed 1] [--runs 10]
 *   node --import tsx test/bench/graph.ts --build [--runners 4] [--slots 4] [--noop-ms 200] ...
 */
import { join } from 'node:path';
import pino from 'pino';
import { createGraphCache, createSourceMirror, loadSourceGraph } from '../../shared/sources/index.ts';
import { testGitRepos } from '../harness/git.ts';
import { benchOptions, ms, percentile, printTable } from './bench-kit.ts';
import { runGraphBuild } from './graph-build.ts';
import { dagSourcesRepo } from './graph-repo.ts';

const options = benchOptions(
  { packages: '1000', depth: '12', seed: '1', runs: '10', runners: '4', slots: '4', 'noop-ms': '200' },
  ['build'],
);
const [packages, depth, seed, runs, noopMs] = options.positive('packages', 'depth', 'seed', 'runs', 'noop-ms');

const repos = await testGitRepos('buildfleet-bench-graph-');
try {
  const made = performance.now();
  const dag = await dagSourcesRepo(repos, { packages, depth, seed, noopMs });
  const edges = [...dag.needs.values()].reduce((sum, tos) => sum + tos.length, 0);
  console.log(
    `graph: ${packages} noop packages, DAG of depth ${depth} (seed ${seed}), ${edges} edges; ` +
      `repo made and committed in ${ms(performance.now() - made)}`,
  );
  if (options.flag('build')) {
    const [runners, slots] = options.positive('runners', 'slots');
    await runGraphBuild({
      dag,
      runners,
      slots,
      noopMs,
    });
  } else {
    await timeGraph(dag.repo.url, dag.commit, await repos.tempDir('work'));
  }
} finally {
  await repos.cleanup();
}

async function timeGraph(url: string, commit: string, work: string): Promise<void> {
  const sources = createSourceMirror({ cacheDir: join(work, 'git'), logger: pino({ level: 'silent' }) });
  const checkout = await sources.checkout({ url, commit, dest: join(work, 'checkout') });
  // One untimed run: module loading and the file system cache are not what is measured.
  const first = performance.now();
  const warm = await loadSourceGraph(checkout.dir);
  const firstMs = performance.now() - first;
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await loadSourceGraph(checkout.dir);
    times.push(performance.now() - started);
  }
  const cache = createGraphCache();
  await cache.get(commit, () => loadSourceGraph(checkout.dir));
  const cachedStart = performance.now();
  await cache.get(commit, () => loadSourceGraph(checkout.dir));
  const cachedMs = performance.now() - cachedStart;
  const [graph] = warm.dists;
  printTable(
    ['step', 'min', 'median', 'max'],
    [
      ['checkout (git archive from a fresh mirror)', ms(checkout.durationMs), '', ''],
      ['loadSourceGraph, first run in the process', ms(firstMs), '', ''],
      [`loadSourceGraph, ${runs} runs`, ms(Math.min(...times)), ms(percentile(times, 50)), ms(Math.max(...times))],
      ['graph cache hit', ms(cachedMs), '', ''],
    ],
  );
  console.log(
    `  graph: ${graph?.nodes.length ?? 0} nodes, ${graph?.edges.length ?? 0} edges, ${graph?.cycles.length ?? 0} cycles, ` +
      `${warm.problems.length} problems; goal: median <= 1000 ms`,
  );
}
