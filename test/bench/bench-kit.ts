/**
 * Pieces the cluster benchmarks (dispatch, throughput, info-query) share: percentiles and tables,
 * a git sources repo of noop packages, buildfleet service processes started from a generated
 * config file (`node bin/buildfleet.js <service> --config <yml>`), and the plain Kafka
 * produce -> consume round trip the dispatch numbers are compared with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Bus } from '../../shared/bus/index.ts';
import type { TestGitRepo, TestGitRepos } from '../harness/git.ts';
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

/** The dist noop builds name: its base image is never made, noop builds need no buildroot. */
export const NOOP_DIST_FILE = 'format: deb\nbase: { image: localhost/none:1 }\n';

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

/** `bus:` of a service config on the bench's Kafka. */
export function kafkaBusYaml(brokers: readonly string[], prefix: string): string {
  return `bus: { type: kafka, brokers: [${brokers.map((b) => `'${b}'`).join(', ')}], topicPrefix: ${prefix} }`;
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

/** Config of a `buildfleet runner` process: host buildroot, filesystem store, noop builds. */
export function runnerConfigYaml(options: {
  brokers: readonly string[];
  prefix: string;
  id: string;
  dir: string;
  storeRoot: string;
  slots: number;
  heartbeatMs?: number;
}): string {
  return [
    kafkaBusYaml(options.brokers, options.prefix),
    `storage: { type: fs, root: '${options.storeRoot}' }`,
    'log: { level: info }',
    'metrics: { enabled: false }',
    'runner:',
    `  id: ${options.id}`,
    `  slots: ${options.slots}`,
    `  heartbeatMs: ${options.heartbeatMs ?? 20_000}`,
    `  workDir: '${options.dir}/work'`,
    `  cacheDir: '${options.dir}/cache'`,
    '  buildroot: host',
    '  graceMs: 5000',
    '',
  ].join('\n');
}

/** Config of a `buildfleet scheduler` process on a sources repo, change detection off. */
export function schedulerConfigYaml(options: {
  brokers: readonly string[];
  prefix: string;
  dir: string;
  sourcesUrl: string;
  logLevel?: string;
}): string {
  return [
    kafkaBusYaml(options.brokers, options.prefix),
    `log: { level: ${options.logLevel ?? 'info'} }`,
    'metrics: { enabled: false }',
    'scheduler:',
    '  id: bench-scheduler',
    '  leaseMs: 60000',
    '  checkIntervalMs: 1000',
    `  workDir: '${options.dir}'`,
    `  sources: { url: '${options.sourcesUrl}', branch: main, pollIntervalMs: 0 }`,
    '',
  ].join('\n');
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
