/**
 * The cascade benchmark (issue 12). A sources repo of `--packages` noop packages in a DAG of
 * chains and diamonds (graph-repo.ts, `--depth` levels) with one root every other package
 * depends on transitively. Everything is built once (the first import, timed but not the
 * measurement); then a new commit changes only the root and the root alone is submitted, as the
 * git watcher would. The scheduler's cascade must rebuild every dependant, each after its
 * dependencies' rebuilds are published. Measured: submit -> the last dependant published,
 * against the critical path of the affected graph and its list schedule on the runner slots
 * (goal <= 1.2x the critical path), and the builds made (goal: exactly the affected packages).
 * Same cluster as `graph.ts --build` (graph-build.ts): real Kafka, a scheduler process, runner
 * processes with host buildroots, the collector in this process, a filesystem store.
 *
 *   node --import tsx test/bench/cascade.ts [--packages 500] [--depth 12] [--seed 1]
 *     [--runners 4] [--slots 1] [--noop-ms 200] [--cascade-wait-s 60]
 *
 * Exits 2 when no dependant build came within `--cascade-wait-s` of the root's publish (the
 * cascade is not there), 1 when the cascade did not finish.
 */
import { loadavg } from 'node:os';
import type { Bus } from '../../shared/bus/index.ts';
import {
  decoderFor,
  TerminalStates,
  type BuildEvent,
  type BuildSubmit,
  type Durations,
  type TopicNames,
} from '../../shared/messages/index.ts';
import { testGitRepos } from '../harness/git.ts';
import { waitFor } from '../harness/wait.ts';
import { benchOptions, percentile, printLogProblems, printTable } from './bench-kit.ts';
import {
  batchSubmits,
  chainLengths,
  listSchedule,
  publishSubmits,
  ratio,
  startGraphCluster,
  waitForBuilds,
} from './graph-build.ts';
import { dagSourcesRepo, type DagRepo } from './graph-repo.ts';

const options = benchOptions({
  packages: '500',
  depth: '12',
  seed: '1',
  runners: '4',
  slots: '1',
  'noop-ms': '200',
  'cascade-wait-s': '60',
});
const [packages, depth, runners, slots, noopMs, cascadeWaitS] = options.positive(
  'packages',
  'depth',
  'runners',
  'slots',
  'noop-ms',
  'cascade-wait-s',
);
const cascadeWaitMs = cascadeWaitS * 1000;
const seed = options.text('seed');
const TERMINAL = new Set<string>(TerminalStates);

/** What the benchmark saw of one build on the events topic. */
interface SeenBuild {
  buildId: string;
  project: string;
  submitId?: string;
  /** A build.event of it carried `rebuild` (the field comes with the cascade). */
  rebuild: boolean;
  /** The runner that claimed it (the last one, after a re-dispatch). */
  runnerId?: string;
  /** The runner's phases, from its `succeeded` event. */
  durations?: Durations;
  /** The first `at` (epoch ms) of each state. */
  at: Map<string, number>;
  state: string;
}

/** The builds of the events topic by buildId, and when any of them last changed state. */
async function watchBuilds(bus: Bus, topics: TopicNames) {
  const builds = new Map<string, SeenBuild>();
  let lastChangeAt = performance.now();
  const subscription = await bus.subscribe<BuildEvent>({
    name: 'bench-cascade',
    topics: [topics.events],
    decode: decoderFor('build.event'),
    handle: ({ value: e }) => {
      if (e.state === 'heartbeat') return Promise.resolve();
      const build: SeenBuild = builds.get(e.buildId) ?? {
        buildId: e.buildId,
        project: e.project,
        rebuild: false,
        at: new Map(),
        state: e.state,
      };
      if (e.submitId !== undefined) build.submitId = e.submitId;
      if (e.durations !== undefined) build.durations = e.durations;
      if (e.state === 'claimed' && e.runnerId !== undefined) build.runnerId = e.runnerId;
      if ((e as { rebuild?: unknown }).rebuild !== undefined) build.rebuild = true;
      if (!build.at.has(e.state)) build.at.set(e.state, Date.parse(e.at));
      // An end is final: a late event of another source does not move the build back.
      if (!TERMINAL.has(build.state)) build.state = e.state;
      builds.set(e.buildId, build);
      lastChangeAt = performance.now();
      return Promise.resolve();
    },
  });
  await subscription.ready;
  return { builds, subscription, lastChangeAt: () => lastChangeAt };
}

/** The projects that depend on `root`, directly or not. */
function dependantsOf(dag: DagRepo, root: string): Set<string> {
  const found = new Set<string>();
  let frontier = [root];
  while (frontier.length > 0) {
    const next = new Set(frontier);
    frontier = [...dag.needs]
      .filter(([project, tos]) => !found.has(project) && tos.some((to) => next.has(to)))
      .map(([project]) => project);
    for (const project of frontier) found.add(project);
  }
  return found;
}

const seconds = (valueMs: number): string => (Number.isFinite(valueMs) ? `${(valueMs / 1000).toFixed(1)} s` : '-');
const count = (values: Iterable<string>): string => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([value, n]) => `${n} ${value}`).join(', ') || 'none';
};

const repos = await testGitRepos('buildfleet-bench-cascade-');
try {
  const dag = await dagSourcesRepo(repos, { packages, depth, seed: Number(seed), noopMs, singleRoot: true });
  const root = dag.projects[0] ?? '';
  const affected = new Set([root, ...dependantsOf(dag, root)]);
  // The affected subgraph: what an ideal cascade builds, in this order.
  const needs = new Map([...affected].map((p) => [p, (dag.needs.get(p) ?? []).filter((to) => affected.has(to))]));
  const parallel = runners * slots;
  const longest = Math.max(...chainLengths(needs).values());
  const criticalMs = longest * noopMs;
  const lowerBoundMs = Math.max(criticalMs, Math.ceil(affected.size / parallel) * noopMs);
  const listMs = listSchedule(needs, parallel, noopMs);
  console.log(
    `cascade: ${packages} noop packages x ${noopMs} ms, DAG of depth ${depth} (seed ${seed}), root ${root}; ` +
      `${affected.size} affected (the root and ${affected.size - 1} dependants), longest chain ${longest}; ` +
      `${runners} runners x ${slots} slots; load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const cluster = await startGraphCluster({ sourcesUrl: dag.repo.url, runners, slots });
  try {
    const { bus, topics } = cluster;
    const watch = await watchBuilds(bus, topics);
    try {
      const allBuilds = (): SeenBuild[] => [...watch.builds.values()];
      const published = (builds: readonly SeenBuild[]): Set<string> =>
        new Set(builds.filter((b) => b.state === 'published').map((b) => b.project));

      // 1. The first import: every package at the first commit, in dependency order.
      console.log(`first import: submitting ${packages} packages`);
      const importSentAt = performance.now();
      await publishSubmits(bus, topics, batchSubmits(dag, dag.commit));
      const imported = await waitForBuilds({
        done: () => published(allBuilds()).size === packages && allBuilds().every((b) => TERMINAL.has(b.state)),
        states: () => allBuilds().map((b) => b.state),
        lastChangeAt: watch.lastChangeAt,
        sentAt: importSentAt,
        what: 'the first import',
        timeoutMs: Math.max(300_000, packages * 2000),
      });
      const importBuilds = allBuilds();
      console.log(
        `first import: ${published(importBuilds).size}/${packages} packages published in ` +
          `${seconds(performance.now() - importSentAt)}; ${importBuilds.length} builds (${count(importBuilds.map((b) => b.state))}), ` +
          `${importBuilds.filter((b) => b.submitId?.startsWith('cascade:') === true).length} of them cascade rebuilds`,
      );
      if (!imported && published(importBuilds).size < packages) throw new Error('the first import did not finish');

      // 2. The change: a new commit touching only the root, submitted as the git watcher does.
      const before = new Set(watch.builds.keys());
      const after = (): SeenBuild[] => allBuilds().filter((b) => !before.has(b.buildId));
      const commit = await dag.repo.commitFiles({ [`${root}/CHANGE`]: 'a change of the root\n' }, 'change the root');
      const submit: BuildSubmit = {
        v: 1,
        type: 'build.submit',
        submitId: `change:${root}@${commit}`,
        project: root,
        ref: commit,
        reason: 'source-change',
        requestedBy: 'git-watcher',
        at: new Date().toISOString(),
      };
      const changeSentAt = performance.now();
      const sentAtMs = Date.now();
      await publishSubmits(bus, topics, [submit]);
      const rootBuild = (): SeenBuild | undefined => after().find((b) => b.project === root);
      await waitFor(() => rootBuild()?.state === 'published', "the root's build to be published", 120_000, 100);
      const cascaded = await waitFor(
        () => after().some((b) => b.project !== root),
        'a dependant build',
        cascadeWaitMs,
        100,
      )
        .then(() => true)
        .catch(() => false);
      if (!cascaded) {
        console.log(
          `NO CASCADE: the root's build was published (${rootBuild()?.buildId}) and no build of a dependant came within ` +
            `${cascadeWaitMs / 1000} s; the scheduler's cascade (issue 12) is not in this tree yet.`,
        );
        process.exitCode = 2;
      } else {
        const finished = await waitForBuilds({
          done: () =>
            [...affected].every((p) => published(after()).has(p)) && after().every((b) => TERMINAL.has(b.state)),
          states: () => after().map((b) => b.state),
          lastChangeAt: watch.lastChangeAt,
          sentAt: changeSentAt,
          what: 'every dependant to be published',
          timeoutMs: Math.max(300_000, affected.size * 2000),
        });
        if (!finished) process.exitCode = 1;
        // Builds that come late (duplicates) count too.
        await new Promise((resolve) => setTimeout(resolve, 5000));
        console.log(`  load average ${loadavg()[0]?.toFixed(1)} at the end`);
        report(needs, after(), sentAtMs, { criticalMs, lowerBoundMs, listMs, longest, parallel });
      }
      printLogProblems(cluster.processes);
    } finally {
      await watch.subscription.close().catch(() => undefined);
    }
  } finally {
    await cluster.stop();
  }
} finally {
  await repos.cleanup();
}

/** The measurement: wall time against the ideals, builds against the affected packages, and where the time went. */
function report(
  needs: ReadonlyMap<string, readonly string[]>,
  builds: readonly SeenBuild[],
  sentAtMs: number,
  ideal: { criticalMs: number; lowerBoundMs: number; listMs: number; longest: number; parallel: number },
): void {
  // The build of each affected project that was published (the first, when there were more).
  const byProject = new Map<string, SeenBuild>();
  for (const b of [...builds].sort(
    (x, y) => (x.at.get('published') ?? Infinity) - (y.at.get('published') ?? Infinity),
  )) {
    if (needs.has(b.project) && b.at.has('published') && !byProject.has(b.project)) byProject.set(b.project, b);
  }
  const publishedAt = (project: string): number => byProject.get(project)?.at.get('published') ?? NaN;
  const lastMs = Math.max(...[...byProject.values()].map((b) => b.at.get('published') ?? NaN));
  const wallMs = lastMs - sentAtMs;
  const perProject = new Map<string, number>();
  for (const b of builds) perProject.set(b.project, (perProject.get(b.project) ?? 0) + 1);
  const duplicates = [...perProject].filter(([, n]) => n > 1);
  const outside = builds.filter((b) => !needs.has(b.project));
  // A dependant claimed before one of its dependencies' new builds was published broke the order.
  const early = [...byProject.values()].filter((b) =>
    (needs.get(b.project) ?? []).some((to) => (b.at.get('claimed') ?? Infinity) < publishedAt(to)),
  );
  console.log(`cascade: submit of the root -> last of ${needs.size} affected packages published`);
  printTable(
    ['what', 'value', 'wall / it'],
    [
      ['wall: submit of the root -> last dependant published', seconds(wallMs), '1.00'],
      [
        `critical path (${ideal.longest} packages x ${noopMs} ms)`,
        seconds(ideal.criticalMs),
        ratio(wallMs, ideal.criticalMs),
      ],
      [
        `lower bound max(critical path, ${needs.size} / ${ideal.parallel} x ${noopMs} ms)`,
        seconds(ideal.lowerBoundMs),
        ratio(wallMs, ideal.lowerBoundMs),
      ],
      [`list schedule on ${ideal.parallel} slots, no overhead`, seconds(ideal.listMs), ratio(wallMs, ideal.listMs)],
      ['builds made (distinct buildIds after the change)', String(builds.length), ''],
      ['affected packages (the root and its dependants)', String(needs.size), ''],
      ['affected packages published', String(byProject.size), ''],
    ],
  );
  console.log(
    `  builds by end state: ${count(builds.map((b) => b.state))}; submitIds cascade:* ` +
      `${builds.filter((b) => b.submitId?.startsWith('cascade:') === true).length}, with a rebuild field ` +
      `${builds.filter((b) => b.rebuild).length}; projects built more than once: ${duplicates.length}` +
      `${
        duplicates.length > 0
          ? ` (${duplicates
              .slice(0, 3)
              .map(([p, n]) => `${p} x${n}`)
              .join(', ')})`
          : ''
      }; ` +
      `builds of unaffected projects: ${outside.length}; claimed before a dependency's new build was published: ${early.length}`,
  );
  printStages(needs, byProject, publishedAt, { sentAtMs, lastMs });
}

/**
 * Where the time goes, from the events' own timestamps: per dependant, its last dependency
 * published -> queued (the scheduler releasing it) -> claimed (a runner picking it) -> succeeded
 * (the build, checkout and upload included) -> published (the collector); then the same along
 * the chain that ended last, link by link back to the root.
 */
function printStages(
  needs: ReadonlyMap<string, readonly string[]>,
  byProject: ReadonlyMap<string, SeenBuild>,
  publishedAt: (project: string) => number,
  { sentAtMs, lastMs }: { sentAtMs: number; lastMs: number },
): void {
  // The root is ready when it is submitted.
  const readyAt = (project: string): number =>
    (needs.get(project) ?? []).length === 0 ? sentAtMs : Math.max(...(needs.get(project) ?? []).map(publishedAt));
  const stages = (b: SeenBuild): number[] => {
    const [queued, claimed, succeeded, published] = ['queued', 'claimed', 'succeeded', 'published'].map(
      (state) => b.at.get(state) ?? NaN,
    ) as [number, number, number, number];
    return [queued - readyAt(b.project), claimed - queued, succeeded - claimed, published - succeeded];
  };
  const names = [
    'last dependency published (root: submit) -> queued',
    'queued -> claimed',
    'claimed -> succeeded',
    'succeeded -> published',
  ];
  const dependantBuilds = [...byProject.values()].filter((b) => (needs.get(b.project) ?? []).length > 0);
  const dependants = dependantBuilds.map(stages);
  printTable(
    ['stage (dependants)', 'median', 'p90', 'max'],
    names.map((name, i) => {
      const values = dependants.map((s) => s[i] ?? NaN).filter(Number.isFinite);
      return [name, seconds(percentile(values, 50)), seconds(percentile(values, 90)), seconds(Math.max(...values))];
    }),
  );
  const phases = (['checkout', 'buildroot', 'build', 'upload'] as const).map((phase) => {
    const values = dependantBuilds.flatMap((b) => (b.durations?.[phase] === undefined ? [] : [b.durations[phase]]));
    return `${phase} ${seconds(percentile(values, 50))}`;
  });
  console.log(`  runner phases of claimed -> succeeded (median): ${phases.join(', ')}`);
  // Each runner's share: long claim waits with runners idle point at the request partitions, not the slots.
  const runners = new Map<string, { builds: number; busyMs: number }>();
  for (const b of byProject.values()) {
    const runner = runners.get(b.runnerId ?? '?') ?? { builds: 0, busyMs: 0 };
    runner.builds += 1;
    runner.busyMs += (b.at.get('succeeded') ?? NaN) - (b.at.get('claimed') ?? NaN) || 0;
    runners.set(b.runnerId ?? '?', runner);
  }
  const wallMs = lastMs - sentAtMs;
  const shares = [...runners].sort(([a], [b]) => a.localeCompare(b));
  console.log(
    `  runners (builds, claimed -> succeeded as a share of the wall time): ` +
      shares.map(([id, r]) => `${id} ${r.builds} ${((100 * r.busyMs) / wallMs).toFixed(0)}%`).join(', '),
  );
  // The chain that ended last: from the last published package back through the dependency that released it.
  const chain: string[] = [];
  let at = [...byProject].find(([, b]) => b.at.get('published') === lastMs)?.[0];
  while (at !== undefined) {
    chain.unshift(at);
    const tos: readonly string[] = needs.get(at) ?? [];
    at = tos.length > 0 ? tos.reduce((a, b) => (publishedAt(a) >= publishedAt(b) ? a : b)) : undefined;
  }
  const rows = chain.flatMap((project) => {
    const b = byProject.get(project);
    if (b === undefined) return [];
    const s = stages(b);
    return [[project.slice(project.lastIndexOf('/') + 1), ...s.map((v) => (Number.isFinite(v) ? seconds(v) : '-'))]];
  });
  const sums = names.map((_, i) =>
    chain.reduce((sum, project) => {
      const b = byProject.get(project);
      const v = b === undefined ? NaN : (stages(b)[i] ?? NaN);
      return Number.isFinite(v) ? sum + v : sum;
    }, 0),
  );
  console.log(`  the chain that ended last (${chain.length} packages):`);
  printTable(['package', ...names], [...rows, ['sum', ...sums.map(seconds)]]);
}
