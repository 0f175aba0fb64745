/**
 * Dispatch latency: the time from a build.submit produced to Kafka to the runner's `claimed`
 * event, at fixed submit rates. A `buildfleet scheduler` process and `buildfleet runner`
 * processes (host buildroot, enough slots to claim every build at once) on real Kafka, a git
 * sources repo of noop packages; every submit names a build key (project and target) of its own,
 * so each is one build.
 * The plain Kafka produce -> consume round trip, measured in the same run, is the baseline.
 *
 *   node --import tsx test/bench/dispatch.ts [--rates 1,100,1000] [--counts 10,300,1000]
 *     [--runners 1] [--slots 2000] [--noop-ms 10] [--ref branch|commit] [--profile <dir>]
 *
 * --ref branch: submits name no ref (as `buildfleet build` sends them; the scheduler resolves
 * the branch with git ls-remote for each); commit: they name the commit (as the git watcher does).
 * --profile: the scheduler process runs with --cpu-prof, its profile is written to <dir>
 * (summarise it with cpu-profile-summary.ts). --scheduler-log <file>: the scheduler's log lines.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildSubmit } from '../../shared/messages/index.ts';
import { waitFor } from '../harness/wait.ts';
import {
  benchOptions,
  gridFor,
  kafkaRoundTrips,
  ms,
  noopSourcesRepo,
  percentile,
  printLogProblems,
  printTable,
  startBenchBase,
  startRunnerProcess,
  startSchedulerProcess,
  watchSamples,
  type NoopKey,
  type ServiceProcess,
} from './bench-kit.ts';

const options = benchOptions({
  rates: '1,100,1000',
  counts: '10,300,1000',
  runners: '1',
  slots: '2000',
  'noop-ms': '10',
  ref: 'branch',
  profile: undefined,
  'scheduler-log': undefined,
});
const args = {
  ref: options.text('ref'),
  profile: options.text('profile'),
  schedulerLog: options.text('scheduler-log'),
};
const rates = options.list('rates');
const counts = options.list('counts');
if (counts.length !== rates.length) throw new Error('--counts needs one count per rate');
const [runnerCount, slots] = options.positive('runners', 'slots');
const noopMs = Number(options.text('noop-ms'));
if (args.ref !== 'branch' && args.ref !== 'commit') throw new Error('--ref is branch or commit');
const WARM_UP = 5;

/** What was seen of one submission, in epoch milliseconds. */
interface Sample {
  sentAt: number;
  submittedAt?: number;
  queuedAt?: number;
  claimedAt?: number;
  claimedSeenAt?: number;
  ended?: boolean;
  /** Highest attempt seen: above 1 when a lease ran out and the build was dispatched again. */
  attempt: number;
}

const now = (): number => performance.timeOrigin + performance.now();
const base = await startBenchBase('dispatch', runnerCount);
const { broker, repos, work, prefix, topics, bus, newBus } = base;
const processes: ServiceProcess[] = [];
try {
  const baselineTopic = `${prefix}.bench.baseline`;
  await bus.ensureTopics([{ name: baselineTopic, partitions: 1, replication: 1, config: {} }]);

  // Every submission names a build key (project and target) of its own.
  const total = WARM_UP + counts.reduce((a, b) => a + b, 0);
  const { repo, commit, keys } = await noopSourcesRepo(
    repos,
    { ...gridFor(total), prefix: 'projects/bench' },
    { ms: noopMs, bytes: 64 },
  );
  const warmKeys = keys.slice(0, WARM_UP);
  let next = WARM_UP;
  const stageKeys = counts.map((count) => keys.slice(next, (next += count)));

  const samples = new Map<string, Sample>();
  await watchSamples(base, samples, (sample, e) => {
    const at = Date.parse(e.at);
    sample.attempt = Math.max(sample.attempt, e.attempt);
    if (e.state === 'submitted') sample.submittedAt ??= at;
    else if (e.state === 'queued' || e.state === 'waiting') sample.queuedAt ??= at;
    else if (e.state === 'claimed' && sample.claimedAt === undefined) {
      sample.claimedAt = at;
      sample.claimedSeenAt = now();
    } else if (['succeeded', 'failed', 'cancelled', 'superseded', 'timed-out'].includes(e.state)) sample.ended = true;
  });

  const profileDir = args.profile;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const scheduler = await startSchedulerProcess({
    brokers: broker.brokers,
    prefix,
    work,
    sourcesUrl: repo.url,
    nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  processes.push(scheduler);
  for (let r = 0; r < runnerCount; r++) {
    const id = `bench-runner-${r}`;
    processes.push(
      await startRunnerProcess({ brokers: broker.brokers, prefix, work, id, storeRoot: join(work, 'store'), slots }),
    );
  }

  const submitOf = ({ project, target }: NoopKey): BuildSubmit => ({
    v: 1,
    type: 'build.submit',
    submitId: randomUUID(),
    project,
    targets: [target],
    reason: 'manual',
    requestedBy: 'bench',
    ...(args.ref === 'commit' ? { ref: commit } : {}),
  });

  /** Produces the submits at `rate` per second (those due together in one produce call). */
  async function submitAtRate(
    projects: readonly NoopKey[],
    rate: number,
  ): Promise<{ sent: BuildSubmit[]; ms: number }> {
    const sent: BuildSubmit[] = [];
    const started = now();
    while (sent.length < projects.length) {
      const due = Math.min(projects.length, Math.floor(((now() - started) * rate) / 1000) + 1);
      const batch = projects.slice(sent.length, due).map(submitOf);
      const at = now();
      for (const s of batch) samples.set(s.submitId, { sentAt: at, attempt: 1 });
      await bus.publish(
        topics.submit,
        batch.map((s) => ({ key: s.project, value: s })),
      );
      sent.push(...batch);
      const next = started + (sent.length * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - now())));
    }
    return { sent, ms: now() - started };
  }

  async function settle(sent: readonly BuildSubmit[], timeoutMs: number): Promise<void> {
    const all = (test: (s: Sample) => boolean) => () =>
      sent.every((s) => test(samples.get(s.submitId) ?? { sentAt: 0, attempt: 1 }));
    await waitFor(
      all((s) => s.claimedAt !== undefined),
      'every submission to be claimed',
      timeoutMs,
      20,
    ).catch((error: unknown) => console.log(`  ! ${(error as Error).message}`));
    await waitFor(
      all((s) => s.ended === true),
      'every build to end',
      timeoutMs,
      50,
    ).catch((error: unknown) => console.log(`  ! ${(error as Error).message}`));
  }

  // Warm-up: the scheduler's checkout of the commit, the runner's git mirror, the groups joined.
  const warm = await submitAtRate(warmKeys, 2);
  await settle(warm.sent, 120_000);

  // The plain round trip: one client produces, another consumes (as the scheduler and runner do).
  const baseline = await kafkaRoundTrips({
    producer: bus,
    consumer: newBus('bench-baseline'),
    topic: baselineTopic,
    count: 200,
    intervalMs: 5,
  });
  const baseP50 = percentile(baseline, 50);

  console.log(
    `dispatch: submit produced -> runner's claimed; ${runnerCount} runner process(es) x ${slots} slots, noop ${noopMs} ms, submits with ${
      args.ref === 'commit' ? 'the commit as ref' : 'no ref (branch resolved per submit)'
    }`,
  );
  console.log(
    `  baseline Kafka produce -> consume round trip: p50 ${ms(baseP50)}  p99 ${ms(percentile(baseline, 99))}  (${baseline.length})`,
  );
  const rows: string[][] = [];
  const handledMs = (from: number): number[] =>
    scheduler.lines
      .slice(from)
      .filter((line) => line.includes('"msg":"scheduler: submission handled"'))
      .map((line) => (JSON.parse(line) as { ms: number }).ms);
  for (const [i, rate] of rates.entries()) {
    const projects = stageKeys[i] ?? [];
    const linesBefore = scheduler.lines.length;
    const { sent, ms: sendMs } = await submitAtRate(projects, rate);
    await settle(sent, Math.max(120_000, projects.length * 200));
    const stage = sent.map((s) => samples.get(s.submitId) ?? { sentAt: 0, attempt: 1 });
    const claimed = stage.filter((s) => s.claimedSeenAt !== undefined);
    const seen = claimed.map((s) => (s.claimedSeenAt ?? 0) - s.sentAt);
    const byAt = claimed.map((s) => (s.claimedAt ?? 0) - s.sentAt);
    const intake = stage.filter((s) => s.submittedAt !== undefined).map((s) => (s.submittedAt ?? 0) - s.sentAt);
    const toQueued = stage.filter((s) => s.queuedAt !== undefined).map((s) => (s.queuedAt ?? 0) - s.sentAt);
    const handled = handledMs(linesBefore);
    const p50 = percentile(seen, 50);
    rows.push([
      String(rate),
      `${claimed.length}/${sent.length}`,
      ((sent.length * 1000) / sendMs).toFixed(1),
      ms(p50),
      ms(percentile(seen, 99)),
      ms(percentile(byAt, 50)),
      ms(percentile(byAt, 99)),
      `${ms(percentile(intake, 50))} / ${ms(percentile(intake, 99))}`,
      `${ms(percentile(toQueued, 50))} / ${ms(percentile(toQueued, 99))}`,
      `${ms(percentile(handled, 50))} / ${ms(percentile(handled, 99))}`,
      (p50 / baseP50).toFixed(1),
      String(stage.filter((s) => s.attempt > 1).length),
    ]);
    console.log(`  rate ${rate}/s done (${claimed.length}/${sent.length} claimed)`);
  }
  printTable(
    [
      'rate/s',
      'claimed',
      'sent/s',
      'p50',
      'p99',
      'p50 (at)',
      'p99 (at)',
      '->submitted p50/p99',
      '->queued p50/p99',
      'sched handling p50/p99',
      'p50/baseline',
      're-dispatched',
    ],
    rows,
  );
  console.log(
    "  p50/p99: to the bench's receipt of `claimed`; (at): to the claimed event's `at`. ->submitted / ->queued: to the" +
      " `at` of the scheduler's events. sched handling: the scheduler's own time per submission (its log's ms).",
  );
  printLogProblems(processes);
  if (args.schedulerLog) await writeFile(args.schedulerLog, `${scheduler.lines.join('\n')}\n`);
} finally {
  for (const p of processes.reverse()) await p.stop().catch(() => null);
  await base.stop();
}
