/**
 * Mode 2 of test/bench/graph.ts: builds every package of the generated DAG on real Kafka (a
 * `buildfleet scheduler` process, `--runners` runner processes with host buildroots, the
 * collector in this process, a filesystem store), each submission carrying `batch` = the projects
 * it needs (as the git watcher sends them) so the scheduler orders them, and waits for every `published`. The wall time is
 * compared with the ideal: the critical path (noop time along the longest chain), the lower
 * bound max(critical path, total work / parallel slots), and a list schedule of the same graph
 * on those slots (longest remaining chain first) with zero overhead. The cluster, the batch
 * submissions and the wait serve test/bench/cascade.ts too.
 */
import { randomUUID } from 'node:crypto';
import type { Bus } from '../../shared/bus/index.ts';
import { decoderFor, type BuildEvent, type BuildSubmit, type TopicNames } from '../../shared/messages/index.ts';
import { waitFor } from '../harness/wait.ts';
import {
  printLogProblems,
  printTable,
  startBenchBase,
  startBenchCollector,
  startRunnerProcess,
  startSchedulerProcess,
  type ServiceProcess,
} from './bench-kit.ts';
import type { DagRepo } from './graph-repo.ts';

const END_STATES = new Set(['published', 'failed', 'cancelled', 'superseded', 'timed-out', 'unresolvable']);

/**
 * The longest chain (in packages, counting the project) from a project along `edges` (project ->
 * the projects it leads to), memoised; a project with no edges is a chain of one.
 */
function chainLength(edges: ReadonlyMap<string, readonly string[]>): (project: string) => number {
  const lengths = new Map<string, number>();
  const lengthOf = (project: string): number => {
    const known = lengths.get(project);
    if (known !== undefined) return known;
    const length = 1 + Math.max(0, ...(edges.get(project) ?? []).map(lengthOf));
    lengths.set(project, length);
    return length;
  };
  return lengthOf;
}

/** Longest chain (in packages) ending at each project, counting the project. */
export function chainLengths(needs: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const lengthOf = chainLength(needs);
  return new Map([...needs.keys()].map((project) => [project, lengthOf(project)]));
}

/** Makespan of a list schedule on `slots` parallel slots, each build `unitMs`, longest remaining chain first. */
export function listSchedule(needs: ReadonlyMap<string, readonly string[]>, slots: number, unitMs: number): number {
  const dependants = new Map<string, string[]>();
  for (const [from, tos] of needs) for (const to of tos) dependants.set(to, [...(dependants.get(to) ?? []), from]);
  // Remaining chain from a project to the end of the graph: its priority.
  const tailOf = chainLength(dependants);
  const waiting = new Map([...needs].map(([project, tos]) => [project, tos.length]));
  let ready = [...waiting].filter(([, count]) => count === 0).map(([project]) => project);
  let running: Array<{ project: string; endsAt: number }> = [];
  let clock = 0;
  while (ready.length > 0 || running.length > 0) {
    ready.sort((a, b) => tailOf(b) - tailOf(a));
    while (running.length < slots && ready.length > 0) {
      running.push({ project: ready.shift() ?? '', endsAt: clock + unitMs });
    }
    clock = Math.min(...running.map((r) => r.endsAt));
    const done = running.filter((r) => r.endsAt === clock);
    running = running.filter((r) => r.endsAt !== clock);
    for (const { project } of done) {
      for (const dependant of dependants.get(project) ?? []) {
        const left = (waiting.get(dependant) ?? 0) - 1;
        waiting.set(dependant, left);
        if (left === 0) ready = [...ready, dependant];
      }
    }
  }
  return clock;
}

/** The services of a graph build on a broker of its own; see startGraphCluster. */
export interface GraphCluster {
  bus: Bus;
  topics: TopicNames;
  /** The scheduler and runner processes (their log lines are kept). */
  processes: ServiceProcess[];
  /** Stops the processes, closes the collector and clients, removes the broker and directories. */
  stop(): Promise<void>;
}

/**
 * A broker of its own, the topics, the collector in this process (filesystem store, the test
 * signing key, 1 s coalescing), a `buildfleet scheduler` process on `sourcesUrl` (change
 * detection off) and `runners` runner processes with host buildroots and `slots` slots each.
 */
export async function startGraphCluster(options: {
  sourcesUrl: string;
  runners: number;
  slots: number;
}): Promise<GraphCluster> {
  const base = await startBenchBase('graph-build', options.runners);
  const { broker, work, prefix, topics, bus } = base;
  const processes: ServiceProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const p of [...processes].reverse()) await p.stop().catch(() => null);
      await base.stop();
    })());
  try {
    const { storeRoot } = await startBenchCollector(base, 1000);
    processes.push(
      await startSchedulerProcess({ brokers: broker.brokers, prefix, work, sourcesUrl: options.sourcesUrl }),
    );
    for (let r = 0; r < options.runners; r++) {
      const id = `bench-runner-${r}`;
      const { slots } = options;
      processes.push(
        await startRunnerProcess({ brokers: broker.brokers, prefix, work, id, storeRoot, slots, heartbeatMs: 5000 }),
      );
    }
    return { bus, topics, processes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One build.submit per package at `ref`, each with `batch` = the projects it needs directly (what the git watcher sends). */
export function batchSubmits(dag: DagRepo, ref: string): BuildSubmit[] {
  return dag.projects.map((project) => ({
    v: 1,
    type: 'build.submit',
    submitId: randomUUID(),
    project,
    ref,
    reason: 'manual',
    requestedBy: 'bench',
    // What the git watcher sends: the submitted projects it needs directly.
    ...((dag.needs.get(project) ?? []).length > 0 ? { batch: dag.needs.get(project) } : {}),
  }));
}

/** Publishes submissions on the submit topic in chunks of 100 (below the broker's 1 MB limit). */
export async function publishSubmits(bus: Bus, topics: TopicNames, submits: readonly BuildSubmit[]): Promise<void> {
  for (let i = 0; i < submits.length; i += 100) {
    await bus.publish(
      topics.submit,
      submits.slice(i, i + 100).map((s) => ({ key: s.project, value: s })),
    );
  }
}

/**
 * Waits until `done()`, printing how many builds are in each state (`states()`) every 15 s.
 * Resolves false, after saying why, when no build changed state for 2 minutes (a stall: no use
 * waiting for the timeout) or after `timeoutMs`.
 */
export async function waitForBuilds(options: {
  done: () => boolean;
  states: () => Iterable<string>;
  lastChangeAt: () => number;
  sentAt: number;
  what: string;
  timeoutMs: number;
}): Promise<boolean> {
  const progress = setInterval(() => {
    const counts = new Map<string, number>();
    for (const state of options.states()) counts.set(state, (counts.get(state) ?? 0) + 1);
    const shown = [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
    console.log(`  ${((performance.now() - options.sentAt) / 1000).toFixed(0)} s: ${shown || 'no events yet'}`);
  }, 15_000);
  const stalled = (): boolean => performance.now() - options.lastChangeAt() > 120_000;
  return waitFor(
    () => {
      if (stalled()) throw new Error('no build changed state for 120 s');
      return options.done();
    },
    options.what,
    options.timeoutMs,
    200,
  )
    .then(() => true)
    .catch((error: unknown) => {
      console.log(`  ! ${(error as Error).message}`);
      return false;
    })
    .finally(() => clearInterval(progress));
}

export async function runGraphBuild(options: {
  dag: DagRepo;
  runners: number;
  slots: number;
  noopMs: number;
}): Promise<void> {
  const { dag, noopMs } = options;
  const parallel = options.runners * options.slots;
  const longest = Math.max(...chainLengths(dag.needs).values());
  const criticalMs = longest * noopMs;
  const lowerBoundMs = Math.max(criticalMs, Math.ceil(dag.projects.length / parallel) * noopMs);
  const listMs = listSchedule(dag.needs, parallel, noopMs);

  const cluster = await startGraphCluster({ sourcesUrl: dag.repo.url, runners: options.runners, slots: options.slots });
  try {
    const { bus, topics, processes } = cluster;
    const ended = new Map<string, { state: string; at: number }>();
    const lastState = new Map<string, string>();
    const reasons = new Map<string, string>();
    let lastChangeAt = performance.now();
    const started = new Map<string, number>();
    const wanted = new Set(dag.projects);
    const watch = await bus.subscribe<BuildEvent>({
      name: 'bench-graph-build',
      topics: [topics.events],
      decode: decoderFor('build.event'),
      handle: ({ value: e }) => {
        if (!wanted.has(e.project)) return Promise.resolve();
        if (e.state !== 'heartbeat') {
          lastState.set(e.project, e.state);
          lastChangeAt = performance.now();
        }
        if (e.state === 'waiting' && e.reason !== undefined) reasons.set(e.project, e.reason);
        if (e.state === 'building' && !started.has(e.project)) started.set(e.project, performance.now());
        if (END_STATES.has(e.state) && !ended.has(e.project))
          ended.set(e.project, { state: e.state, at: performance.now() });
        return Promise.resolve();
      },
    });
    try {
      await watch.ready;
      const submits = batchSubmits(dag, dag.commit);
      console.log(`  scheduler and ${options.runners} runners ready; submitting ${submits.length} packages`);
      const sentAt = performance.now();
      await publishSubmits(bus, topics, submits);
      const allEnded = await waitForBuilds({
        done: () => ended.size === dag.projects.length,
        states: () => lastState.values(),
        lastChangeAt: () => lastChangeAt,
        sentAt,
        what: 'every build to end',
        timeoutMs: Math.max(300_000, dag.projects.length * 1000),
      });
      if (!allEnded) {
        const stuck = [...lastState].filter(([, state]) => !END_STATES.has(state)).slice(0, 3);
        for (const [project, state] of stuck) console.log(`    ${project}: ${state} ${reasons.get(project) ?? ''}`);
      }
      const wallMs = Math.max(...[...ended.values()].map((e) => e.at)) - sentAt;
      const states = new Map<string, number>();
      for (const { state } of ended.values()) states.set(state, (states.get(state) ?? 0) + 1);
      // Order check: no package started building before each of its dependencies had ended.
      const early = [...dag.needs].filter(([project, tos]) =>
        tos.some((to) => (started.get(project) ?? Infinity) < (ended.get(to)?.at ?? Infinity)),
      ).length;
      console.log(
        `graph --build: ${dag.projects.length} packages x ${noopMs} ms, ${options.runners} runners x ${options.slots} slots` +
          ` (${parallel} parallel), host buildroot, fs store, Kafka`,
      );
      printTable(
        ['what', 'time', 'wall / it'],
        [
          ['wall: submit -> last end', `${(wallMs / 1000).toFixed(1)} s`, '1.00'],
          [
            `critical path (${longest} packages x ${noopMs} ms)`,
            `${(criticalMs / 1000).toFixed(1)} s`,
            ratio(wallMs, criticalMs),
          ],
          [
            `lower bound max(critical path, ${dag.projects.length} / ${parallel} x ${noopMs} ms)`,
            `${(lowerBoundMs / 1000).toFixed(1)} s`,
            ratio(wallMs, lowerBoundMs),
          ],
          ['list schedule, no overhead', `${(listMs / 1000).toFixed(1)} s`, ratio(wallMs, listMs)],
        ],
      );
      console.log(
        `  ends: ${[...states].map(([state, n]) => `${n} ${state}`).join(', ')}; ` +
          `built before a dependency ended: ${early}`,
      );
      printLogProblems(processes);
    } finally {
      await watch.close().catch(() => undefined);
    }
  } finally {
    await cluster.stop();
  }
}

export function ratio(wallMs: number, idealMs: number): string {
  return (wallMs / idealMs).toFixed(2);
}
