/**
 * Pieces the cluster benchmarks (dispatch, throughput, info-query) share: percentiles and tables,
 * a git sources repo of noop packages, buildfleet service processes started from a generated
 * config file (`node bin/buildfleet.js <service> --config <yml>`), and the plain Kafka
 * produce -> consume round trip the dispatch numbers are compared with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import type { Bus } from '../../shared/bus/index.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { topicNames, type BuildEvent, type TopicNames } from '../../shared/messages/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { runnerConfigYaml, schedulerConfigYaml } from '../harness/service-config.ts';
import { startTestCollector } from '../harness/cluster.ts';
import { recordTopic } from '../harness/events.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from '../harness/git.ts';
import { startTestBroker, type TestBroker } from '../harness/kafka.ts';
import { deferred, waitFor } from '../harness/wait.ts';

const bin = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));

/** The value below which `p` percent of `values` lie (nearest rank); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : '-');
export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Prints rows under a header, columns padded to their widest cell. */
export function printTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`  ${line(header)}`);
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(`  ${line(row)}`);
}

/** A comma-separated list of positive numbers (`1,100,1000`). */
export function numberList(text: string, what: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new Error(`${what}: expected a comma-separated list of positive numbers, got "${text}"`);
  }
  return values;
}

export function positiveNumber(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${what}: expected a positive number, got "${text}"`);
  return value;
}

/**
 * The bench's command line: `--name value` options with these defaults (undefined: none) and
 * the `--name` switches of `flags`. positive() and list() read numbers and name the option in
 * their errors.
 */
export function benchOptions<K extends string>(
  defaults: Readonly<Record<K, string | undefined>>,
  flags: readonly string[] = [],
): {
  text(name: K): string | undefined;
  flag(name: string): boolean;
  positive<N extends K[]>(...names: N): { [I in keyof N]: number };
  list(name: K): number[];
} {
  const options: Record<string, { type: 'string'; default?: string } | { type: 'boolean'; default: boolean }> = {};
  for (const [name, value] of Object.entries<string | undefined>(defaults)) {
    options[name] = value === undefined ? { type: 'string' } : { type: 'string', default: value };
  }
  for (const name of flags) options[name] = { type: 'boolean', default: false };
  const { values } = parseArgs({ options });
  const text = (name: K): string | undefined => values[name] as string | undefined;
  function positive<N extends K[]>(...names: N): { [I in keyof N]: number } {
    return names.map((name) => positiveNumber(text(name) ?? '', `--${name}`)) as { [I in keyof N]: number };
  }
  return {
    text,
    flag: (name) => values[name] === true,
    positive,
    list: (name) => numberList(text(name) ?? '', `--${name}`),
  };
}

/** The dist noop builds name: its base image is never made, noop builds need no buildroot. */
export const NOOP_DIST_FILE = 'format: deb\nbase: { image: localhost/none:1 }\n';

/** What every cluster bench starts with: a broker of its own, the topics, git repos, bus clients. */
export interface BenchBase {
  broker: TestBroker;
  repos: TestGitRepos;
  /** A temp dir of the bench's. */
  work: string;
  prefix: string;
  topics: TopicNames;
  logger: Logger;
  /** A new bus client (closed by stop()). */
  newBus: (clientId: string) => Bus;
  /** The bench's own bus client. */
  bus: Bus;
  /** Runs `cleanup` in stop(), the last one registered first. */
  defer: (cleanup: () => Promise<unknown>) => void;
  /** Stops what was deferred, then removes the repos and the broker. Idempotent. */
  stop: () => Promise<void>;
}

/**
 * Starts a broker and makes the topics of a new prefix (`requestPartitions` request, event and
 * log partitions), a git repos dir (`buildfleet-bench-<name>-`) and the bench's bus client.
 */
export async function startBenchBase(name: string, requestPartitions: number): Promise<BenchBase> {
  const logger = pino({ level: 'silent' });
  const broker = await startTestBroker();
  const repos = await testGitRepos(`buildfleet-bench-${name}-`);
  const cleanups: Array<() => Promise<unknown>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
      await repos.cleanup();
      await broker.cleanup();
    })());
  try {
    const prefix = `b${name.slice(0, 1)}${randomUUID().slice(0, 6)}`;
    const newBus = (clientId: string): Bus => {
      const bus = createKafkaBus({ brokers: broker.brokers, clientId, topicPrefix: prefix, logger });
      cleanups.push(() => bus.close());
      return bus;
    };
    const bus = newBus('bench');
    await bus.ensureTopics(testTopics(prefix, requestPartitions));
    return {
      broker,
      repos,
      work: await repos.tempDir('work'),
      prefix,
      topics: topicNames(prefix),
      logger,
      newBus,
      bus,
      defer: (cleanup) => void cleanups.push(cleanup),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The filesystem store at `<work>/store` and the collector in this process on it (the test
 * signing key, a public URL nothing serves), stopped by the base's stop().
 */
export async function startBenchCollector(
  base: BenchBase,
  coalesceMs: number,
): Promise<{ store: ArtifactStore; storeRoot: string }> {
  const storeRoot = join(base.work, 'store');
  const store = await createFsArtifactStore({ root: storeRoot });
  base.defer(() => store.close());
  const collector = await startTestCollector({
    instanceId: 'bench-collector',
    bus: base.newBus('bench-collector'),
    store,
    logger: base.logger,
    publicUrl: 'http://127.0.0.1:1/repos',
    dir: base.work,
    coalesceMs,
  });
  base.defer(() => collector.stop());
  return { store, storeRoot };
}

/**
 * Per submission the bench made (`samples`, by submitId), hands each build event of it to
 * `onEvent` with its sample, from now until the base stops.
 */
export async function watchSamples<S>(
  base: BenchBase,
  samples: ReadonlyMap<string, S>,
  onEvent: (sample: S, event: BuildEvent) => void,
): Promise<void> {
  const { subscription } = await recordTopic(base.bus, {
    name: 'bench-samples',
    topic: base.topics.events,
    type: 'build.event',
    handle: (e) => {
      const sample = e.submitId === undefined ? undefined : samples.get(e.submitId);
      if (sample) onEvent(sample, e);
    },
  });
  base.defer(() => subscription.close());
}

/** One build key of the noop grid: a project and one of its targets. */
export interface NoopKey {
  project: string;
  target: { dist: string; arch: string };
}

/**
 * A sources repo whose `projects` noop packages each declare a target on each of `dists`
 * dists, committed, and the build keys of that grid (project-major). A submission naming one
 * project and one target is one build; distinct keys never share a build.
 */
export async function noopSourcesRepo(
  repos: TestGitRepos,
  grid: { projects: number; dists: number; prefix: string },
  noop: { ms: number; bytes: number },
): Promise<{ repo: TestGitRepo; commit: string; keys: NoopKey[] }> {
  const repo = await repos.create('sources');
  const dists = Array.from({ length: grid.dists }, (_, i) => `d${String(i).padStart(3, '0')}`);
  const targets = dists.map((dist) => `{ dist: ${dist}, arch: x86_64 }`).join(', ');
  const yml = `kind: noop\ntargets: [${targets}]\nnoop: { ms: ${noop.ms}, bytes: ${noop.bytes} }\n`;
  const files: Record<string, string> = {};
  for (const dist of dists) files[`dists/${dist}.yml`] = NOOP_DIST_FILE;
  const keys: NoopKey[] = [];
  for (let p = 0; p < grid.projects; p++) {
    const project = `${grid.prefix}/p${String(p).padStart(3, '0')}`;
    files[`${project}/buildfleet.yml`] = yml;
    for (const dist of dists) keys.push({ project, target: { dist, arch: 'x86_64' } });
  }
  await repo.write(files);
  return { repo, commit: await repo.commit(`${grid.projects} noop packages x ${grid.dists} dists`), keys };
}

/**
 * A square grid of at least `count` keys. Both sides cost: a runner extracts the whole tree for
 * every build (so many packages make every build slower and load the machine), and the scheduler
 * parses a package's buildfleet.yml for each submission (its targets' dist files are read once per
 * commit). 40 x 40 keys take 80 files.
 */
export function gridFor(count: number): { projects: number; dists: number } {
  const dists = Math.max(1, Math.ceil(Math.sqrt(count)));
  return { projects: Math.max(1, Math.ceil(count / dists)), dists };
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every stdout line (JSON log lines) seen so far, when `keepLines` was asked for. */
  readonly lines: string[];
  /** The last 4 KiB of output, for error messages. */
  tail(): string;
  /** SIGTERM, SIGKILL after `timeoutMs`; resolves with the exit code (null when killed). Idempotent. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts `node [nodeArgs] bin/buildfleet.js <service> --config <configFile>` (written from
 * `config`) and resolves once its output contains `<service>: ready`.
 */
export async function startServiceProcess(options: {
  service: 'scheduler' | 'runner' | 'collector' | 'info-service';
  name: string;
  configFile: string;
  config: string;
  nodeArgs?: readonly string[];
  keepLines?: boolean;
  readyTimeoutMs?: number;
}): Promise<ServiceProcess> {
  await writeFile(options.configFile, options.config);
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), bin, options.service, '--config', options.configFile],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let tail = '';
  let partial = '';
  const lines: string[] = [];
  const ready = deferred();
  const readyText = `"msg":"${options.service}: ready"`;
  const onData = (data: Buffer): void => {
    const text = data.toString('utf8');
    tail = (tail + text).slice(-4096);
    if (tail.includes(readyText)) ready.resolve();
    if (options.keepLines) {
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', (data: Buffer) => (tail = (tail + data.toString('utf8')).slice(-4096)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => ready.reject(new Error(`${options.name} exited (${code}) before it was ready:\n${tail}`)));
  let stopping: Promise<number | null> | undefined;
  const proc: ServiceProcess = {
    name: options.name,
    child,
    lines,
    tail: () => tail,
    stop: (timeoutMs = 30_000) =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })()),
  };
  const timeout = setTimeout(
    () => ready.reject(new Error(`${options.name} not ready after ${options.readyTimeoutMs ?? 120_000} ms:\n${tail}`)),
    options.readyTimeoutMs ?? 120_000,
  );
  try {
    await ready.promise;
  } catch (error) {
    await proc.stop(5000);
    throw error;
  } finally {
    clearTimeout(timeout);
  }
  return proc;
}

/**
 * The plain Kafka round trip on the same bus code the services use: `count` messages, one every
 * `intervalMs`, each published on `topic` and received by a subscriber of another bus client.
 * Returns the milliseconds from each publish call to the receipt.
 */
export async function kafkaRoundTrips(options: {
  producer: Bus;
  consumer: Bus;
  topic: string;
  count: number;
  intervalMs: number;
}): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const took: number[] = [];
  const sub = await options.consumer.subscribe<{ id: string }>({
    name: 'bench-baseline',
    topics: [options.topic],
    decode: (value) => value as { id: string },
    handle: async (record) => {
      const started = sentAt.get(record.value.id);
      if (started !== undefined) took.push(performance.now() - started);
    },
  });
  try {
    await sub.ready;
    const run = randomUUID().slice(0, 8);
    for (let i = 0; i < options.count; i++) {
      const id = `${run}-${i}`;
      sentAt.set(id, performance.now());
      await options.producer.publish(options.topic, { key: id, value: { id } });
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
    await waitFor(() => took.length >= options.count, 'the baseline round trips', 60_000, 10);
  } finally {
    await sub.close();
  }
  return took;
}

/**
 * A `buildfleet runner` process `id` (config and dirs in `<work>/<id>`) on the filesystem store
 * at `storeRoot`, its log lines kept.
 */
export async function startRunnerProcess(options: {
  brokers: readonly string[];
  prefix: string;
  work: string;
  id: string;
  storeRoot: string;
  slots: number;
  heartbeatMs?: number;
}): Promise<ServiceProcess> {
  const dir = join(options.work, options.id);
  await mkdir(dir, { recursive: true });
  return startServiceProcess({
    service: 'runner',
    name: options.id,
    configFile: join(dir, 'runner.yml'),
    config: runnerConfigYaml({ ...options, dir }),
    keepLines: true,
  });
}

/**
 * A `buildfleet scheduler` process (config `<work>/scheduler.yml`, work dir `<work>/scheduler`)
 * on the sources repo at `sourcesUrl`, its log lines kept.
 */
export function startSchedulerProcess(options: {
  brokers: readonly string[];
  prefix: string;
  work: string;
  sourcesUrl: string;
  nodeArgs?: readonly string[];
}): Promise<ServiceProcess> {
  return startServiceProcess({
    service: 'scheduler',
    name: 'scheduler',
    configFile: join(options.work, 'scheduler.yml'),
    config: schedulerConfigYaml({
      brokers: options.brokers,
      prefix: options.prefix,
      dir: join(options.work, 'scheduler'),
      sourcesUrl: options.sourcesUrl,
    }),
    nodeArgs: options.nodeArgs,
    keepLines: true,
  });
}

/** Warn, error and fatal lines of a service's JSON log, counted by message. */
export function logProblems(lines: readonly string[]): Map<string, number> {
  const problems = new Map<string, number>();
  for (const line of lines) {
    if (!/"level":"(warn|error|fatal)"/.test(line)) continue;
    let msg = line.slice(0, 120);
    try {
      const parsed = JSON.parse(line) as { level?: string; msg?: string };
      msg = `${parsed.level ?? '?'}: ${parsed.msg ?? '(no msg)'}`;
    } catch {
      // a line cut by the process's end: counted by its start
    }
    problems.set(msg, (problems.get(msg) ?? 0) + 1);
  }
  return problems;
}

/** Prints the warn/error lines of the service processes, counted by message (nothing when clean). */
export function printLogProblems(processes: readonly ServiceProcess[]): void {
  for (const p of processes) {
    const problems = logProblems(p.lines);
    if (problems.size === 0) continue;
    console.log(`  ${p.name} log: ${[...problems].map(([msg, n]) => `${n} x ${msg}`).join('; ')}`);
  }
}
