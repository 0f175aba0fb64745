/**
 * Throughput: noop builds per second through the whole path, build.submit -> `published`, with
 * 1, 2 and 4 runner processes (`buildfleet runner --config`, host buildroot). A `buildfleet
 * scheduler` process, the collector in this process (images index repositories, signed), one
 * filesystem store shared by the runners and the collector, real Kafka, a git sources repo.
 * Each stage starts its runners, warms them up, submits a burst of builds (each submission one
 * build key of its own) and waits for every `published`; then it stops its runners.
 *
 *   node --import tsx test/bench/throughput.ts [--runners 1,2,4] [--builds 200] [--slots 4]
 *     [--noop-ms 10] [--coalesce-ms 1000]
 */
import { randomUUID } from 'node:crypto';
import type { BuildEvent, BuildSubmit } from '../../shared/messages/index.ts';
import { waitFor } from '../harness/wait.ts';
import {
  benchOptions,
  gridFor,
  ms,
  noopSourcesRepo,
  percentile,
  printLogProblems,
  printTable,
  startBenchBase,
  startBenchCollector,
  startRunnerProcess,
  startSchedulerProcess,
  watchSamples,
  type NoopKey,
  type ServiceProcess,
} from './bench-kit.ts';

const options = benchOptions({ runners: '1,2,4', builds: '200', slots: '4', 'noop-ms': '10', 'coalesce-ms': '1000' });
const runnerCounts = options.list('runners');
const [builds, slots] = options.positive('builds', 'slots');
const noopMs = Number(options.text('noop-ms'));
const coalesceMs = Number(options.text('coalesce-ms'));
const END_STATES = new Set(['published', 'failed', 'cancelled', 'superseded', 'timed-out', 'unresolvable']);

interface Sample {
  sentAt: number;
  claimedAt?: number;
  succeededAt?: number;
  /** Milliseconds of the runner's phases, from its `succeeded` event. */
  durations?: BuildEvent['durations'];
  endedAt?: number;
  end?: string;
}

const now = (): number => performance.timeOrigin + performance.now();
// As many request partitions as the most runners of a stage: each runner gets its share.
const base = await startBenchBase('throughput', Math.max(...runnerCounts));
const { broker, repos, work, prefix, topics, bus } = base;
const processes: ServiceProcess[] = [];
try {
  const perStage = builds + 2 * Math.max(...runnerCounts);
  const { repo, commit, keys } = await noopSourcesRepo(
    repos,
    { ...gridFor(perStage * runnerCounts.length), prefix: 'projects/bench' },
    { ms: noopMs, bytes: 4096 },
  );
  let nextKey = 0;
  const takeKeys = (count: number): NoopKey[] => keys.slice(nextKey, (nextKey += count));

  const samples = new Map<string, Sample>();
  await watchSamples(base, samples, (sample, e) => {
    if (e.state === 'claimed') sample.claimedAt ??= now();
    if (e.state === 'succeeded') {
      sample.succeededAt ??= now();
      sample.durations ??= e.durations;
    }
    if (END_STATES.has(e.state) && sample.end === undefined) {
      sample.end = e.state;
      sample.endedAt = now();
    }
  });

  const { storeRoot } = await startBenchCollector(base, coalesceMs);

  const scheduler = await startSchedulerProcess({ brokers: broker.brokers, prefix, work, sourcesUrl: repo.url });
  processes.push(scheduler);

  /** Submits one build per key (one produce call) and waits until each has ended. */
  async function burst(stageKeys: readonly NoopKey[], timeoutMs: number): Promise<Sample[]> {
    const submits: BuildSubmit[] = stageKeys.map(({ project, target }) => ({
      v: 1,
      type: 'build.submit',
      submitId: randomUUID(),
      project,
      targets: [target],
      ref: commit,
      reason: 'manual',
      requestedBy: 'bench',
    }));
    const sentAt = now();
    for (const s of submits) samples.set(s.submitId, { sentAt });
    await bus.publish(
      topics.submit,
      submits.map((s) => ({ key: s.project, value: s })),
    );
    const stage = submits.map((s) => samples.get(s.submitId) ?? { sentAt });
    await waitFor(() => stage.every((s) => s.end !== undefined), 'every build to be published', timeoutMs, 50).catch(
      (error: unknown) => console.log(`  ! ${(error as Error).message}`),
    );
    return stage;
  }

  console.log(
    `throughput: noop builds (${noopMs} ms, 4 KiB) submit -> published; runner processes x ${slots} slots, ` +
      `host buildroot, fs store, collector coalesceMs ${coalesceMs}`,
  );
  const rows: string[][] = [];
  for (const count of runnerCounts) {
    const runners: ServiceProcess[] = [];
    for (let r = 0; r < count; r++) {
      const id = `bench-runner-${count}-${r}`;
      runners.push(
        await startRunnerProcess({ brokers: broker.brokers, prefix, work, id, storeRoot, slots, heartbeatMs: 5000 }),
      );
    }
    processes.push(...runners);
    // Warm-up: each runner's git mirror, the partitions assigned after the group settled.
    await burst(takeKeys(2 * count), 120_000);
    const stage = await burst(takeKeys(builds), Math.max(300_000, builds * 2000));
    const published = stage.filter((s) => s.end === 'published');
    const first = Math.min(...stage.map((s) => s.sentAt));
    const lastPublished = Math.max(...published.map((s) => s.endedAt ?? 0));
    const lastSucceeded = Math.max(...stage.map((s) => s.succeededAt ?? 0));
    const latency = published.map((s) => (s.endedAt ?? 0) - s.sentAt);
    const others = stage.length - published.length;
    const onRunner = stage.flatMap((s) => (s.claimedAt && s.succeededAt ? [s.succeededAt - s.claimedAt] : []));
    const phase = (name: 'checkout' | 'build' | 'upload'): string =>
      percentile(
        stage.flatMap((s) => (s.durations?.[name] !== undefined ? [s.durations[name]] : [])),
        50,
      ).toFixed(0);
    rows.push([
      String(count),
      `${published.length}/${stage.length}${others > 0 ? ` (${others} not published)` : ''}`,
      `${((lastPublished - first) / 1000).toFixed(1)} s`,
      ((published.length * 1000) / (lastPublished - first)).toFixed(1),
      ((stage.filter((s) => s.succeededAt).length * 1000) / (lastSucceeded - first)).toFixed(1),
      ms(percentile(latency, 50)),
      ms(percentile(latency, 99)),
      ms(percentile(onRunner, 50)),
      `${phase('checkout')} / ${phase('build')} / ${phase('upload')}`,
    ]);
    console.log(`  ${count} runner(s) done`);
    for (const runner of runners) await runner.stop();
  }
  printTable(
    [
      'runners',
      'published',
      'elapsed',
      'published/s',
      'succeeded/s',
      'submit->published p50',
      'p99',
      'claimed->succeeded p50',
      'checkout/build/upload p50 ms',
    ],
    rows,
  );
  console.log(
    '  elapsed: from the burst produced to the last `published`; succeeded/s: to the last runner `succeeded`;' +
      ' claimed->succeeded: one build on a runner; the phases are the `durations` of the succeeded events.',
  );
  printLogProblems(processes);
} finally {
  for (const p of processes.reverse()) await p.stop().catch(() => null);
  await base.stop();
}
