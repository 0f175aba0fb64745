/**
 * A cluster of real parts on Kafka for scheduler tests: the scheduler, a collector and (on
 * demand) runners with the host buildroot, building `noop` packages from a real git sources
 * repo, with a filesystem store. Events and dead letters are recorded for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { InfoSettings } from '../../info-service/config.ts';
import { startInfoService } from '../../info-service/service.ts';
import { RunnerSettings } from '../../runner/config.ts';
import type { Runner } from '../../runner/runner.ts';
import { startRunnerService } from '../../runner/service.ts';
import { SchedulerSettings } from '../../scheduler/config.ts';
import { startSchedulerService, type SchedulerService } from '../../scheduler/service.ts';
import { plannedTopics, type Bus } from '../../shared/bus/index.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { loadConfig, type BusSecurity } from '../../shared/config/index.ts';
import {
  decoderFor,
  topicNames,
  type BuildEvent,
  type BuildSubmit,
  type Deadletter,
  type TopicNames,
} from '../../shared/messages/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { startTestCollector } from './cluster.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from './git.ts';
import { waitFor } from './wait.ts';

export interface NoopCluster {
  prefix: string;
  topics: TopicNames;
  /** A bus client of the test itself. */
  bus: Bus;
  sources: TestGitRepo;
  repos: TestGitRepos;
  store: ArtifactStore;
  events: BuildEvent[];
  deadletters: Deadletter[];
  scheduler: SchedulerService;
  /** The info service's HTTP API (with the repositories), when asked for. */
  apiUrl: string;
  /** Directory of the filesystem artifact store. */
  storeRoot: string;
  startScheduler(): Promise<SchedulerService>;
  stopScheduler(): Promise<void>;
  startRunner(options?: { id?: string; group?: string; arches?: string[]; slots?: number }): Promise<Runner>;
  /**
   * `buildfleet runner --config` as a child process on the cluster's topics and store (host
   * buildroot), ready when it returns. The test kills it or stop() does.
   */
  startRunnerProcess(options: { id: string; group?: string; slots?: number }): Promise<ServiceProcess>;
  /**
   * Stops the in-process scheduler and starts `buildfleet scheduler --config` as a child process
   * on the cluster's topics (the test kills it: SIGKILL), ready when it returns.
   */
  startSchedulerProcess(): Promise<ServiceProcess>;
  submit(project: string, options?: Partial<BuildSubmit>): Promise<BuildSubmit>;
  /** The first event of the build in one of the states, waiting for it. */
  reached(buildId: string, states: readonly string[], timeoutMs?: number): Promise<BuildEvent>;
  /** Build ids of the events of a submission. */
  buildIdsOf(submitId: string): string[];
  stop(): Promise<void>;
}

/** The parts of a noop cluster with a bus of their own ('test' is the test's own client). */
export type NoopClusterPart = 'test' | 'scheduler' | 'collector' | 'info' | 'runner';

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  exited: Promise<number | null>;
}

const BIN = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));

export const NOOP_DIST = 'dists/bookworm.yml';

/** The buildfleet.yml of a noop package that provides and needs names in the graph (tests of order and cascades). */
export function noopPackage(
  options: { ms?: number; provides?: string[]; needs?: string[]; fail?: string; dist?: string; optOut?: boolean } = {},
): string {
  const fields = [
    `ms: ${options.ms ?? 50}`,
    ...(options.provides ? [`provides: [${options.provides.join(', ')}]`] : []),
    ...(options.needs ? [`needs: [${options.needs.join(', ')}]`] : []),
    ...(options.fail ? [`fail: "${options.fail}"`] : []),
  ];
  return (
    `kind: noop\ntargets: [{ dist: ${options.dist ?? 'bookworm'}, arch: x86_64 }]\nnoop: { ${fields.join(', ')} }\n` +
    (options.optOut ? 'rebuild: { onDependencyChange: false }\n' : '')
  );
}

export async function startNoopCluster(options: {
  brokers: string[];
  /** Files of the sources repo besides the dist. */
  files: Record<string, string>;
  leaseMs?: number;
  maxAttempts?: number;
  /** Also run the info service and serve its HTTP API on 127.0.0.1. */
  infoService?: boolean;
  /** The scheduler polls the sources branch this often (change detection). @default 0: off */
  pollIntervalMs?: number;
  /** @default a random one */
  prefix?: string;
  /** The bus security (SASL, TLS) of each part, e.g. a principal per service; absent: none. */
  securityOf?: (part: NoopClusterPart, runnerGroup?: string) => BusSecurity;
}): Promise<NoopCluster> {
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  const prefix = options.prefix ?? `sc${randomUUID().slice(0, 8)}`;
  const topics = topicNames(prefix);
  const cleanups: Array<() => Promise<void>> = [];
  const newBus = (name: string, part: NoopClusterPart, group?: string): Bus => {
    const bus = createKafkaBus({
      ...options.securityOf?.(part, group),
      brokers: options.brokers,
      clientId: name,
      topicPrefix: prefix,
      logger,
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 10_000,
    });
    cleanups.push(() => bus.close());
    return bus;
  };
  const bus = newBus('test', 'test');
  await bus.ensureTopics(
    plannedTopics(prefix, {
      replication: 1,
      runnerGroups: [
        { name: 'default', arches: ['x86_64'], partitions: 2 },
        { name: 'arm', arches: ['aarch64'], partitions: 1 },
        { name: 'kill', arches: ['x86_64'], partitions: 1 },
      ],
      partitions: { submit: 2, events: 2, logs: 2, control: 1, info: 1, state: 1, deadletter: 1 },
      retentionHours: { submit: 1, requests: 1, events: 1, logs: 1, control: 1, info: 1, deadletter: 1 },
    }),
  );
  const events: BuildEvent[] = [];
  const deadletters: Deadletter[] = [];
  const watch = await bus.subscribe<BuildEvent>({
    name: 'test-events',
    topics: [topics.events],
    decode: decoderFor('build.event'),
    handle: async (r) => void events.push(r.value),
  });
  const dead = await bus.subscribe<Deadletter>({
    name: 'test-deadletters',
    topics: [topics.deadletter],
    decode: decoderFor('deadletter'),
    handle: async (r) => void deadletters.push(r.value),
  });
  await Promise.all([watch.ready, dead.ready]);

  const repos = await testGitRepos('buildfleet-scheduler-');
  cleanups.unshift(() => repos.cleanup());
  const sources = await repos.create('sources');
  await sources.write({ [NOOP_DIST]: 'format: deb\nbase: { image: localhost/none:1 }\n', ...options.files });
  await sources.commit('noop packages');
  const work = await repos.tempDir('work');
  const store = await createFsArtifactStore({ root: join(work, 'store') });
  cleanups.push(() => store.close());
  // The services as `buildfleet <service>` composes them, from settings parsed through their schemas.
  const collector = await startTestCollector({
    bus: newBus('collector', 'collector'),
    store,
    logger,
    publicUrl: 'http://127.0.0.1:1/repos',
    dir: work,
  });
  cleanups.push(() => collector.stop());

  let apiUrl = '';
  if (options.infoService) {
    const info = await startInfoService(
      loadConfig(InfoSettings, {
        env: {},
        defaults: {
          id: 'test-info',
          http: { host: '127.0.0.1', port: 0 },
          publicUrl: 'http://127.0.0.1:1/repos',
          // as `buildfleet up --insecure-local`: the tests that use this API are about builds, not tokens
          auth: { anonymous: 'submit' },
          serveRepos: true,
          catchUpQuietMs: 500,
          logSettleMs: 1000,
        },
      }),
      { bus: newBus('info', 'info'), store, logger },
    );
    apiUrl = info.url;
    cleanups.push(() => info.stop());
  }

  const busYaml = `bus: { type: kafka, brokers: [${options.brokers.map((b) => `'${b}'`).join(', ')}], topicPrefix: ${prefix}, sessionTimeoutMs: 6000 }`;
  /** `buildfleet <service> --config` as a child process, ready when it says so; stop() kills what is left. */
  const spawnService = async (service: string, id: string, config: string): Promise<ServiceProcess> => {
    const child = spawn(process.execPath, [BIN, service, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    await waitFor(
      () => output.includes(`${service}: ready`) || child.exitCode !== null,
      `the ${service} process`,
      120_000,
    );
    if (child.exitCode !== null) throw new Error(`${service} ${id} exited:\n${output}`);
    return { child, output: () => output, exited };
  };

  let schedulerCount = 0;
  const startScheduler = async (): Promise<SchedulerService> => {
    schedulerCount += 1;
    const service = await startSchedulerService(
      loadConfig(SchedulerSettings, {
        env: {},
        defaults: {
          id: `scheduler-${schedulerCount}`,
          leaseMs: options.leaseMs ?? 5000,
          maxAttempts: options.maxAttempts ?? 3,
          checkIntervalMs: 200,
          workDir: join(work, 'scheduler'),
          sources: { url: sources.url, pollIntervalMs: options.pollIntervalMs ?? 0 },
        },
      }),
      { bus: newBus(`scheduler-${schedulerCount}`, 'scheduler'), logger, env: {} },
    );
    cleanups.push(() => service.stop());
    return service;
  };
  const cluster: NoopCluster = {
    prefix,
    topics,
    bus,
    sources,
    repos,
    store,
    events,
    deadletters,
    scheduler: await startScheduler(),
    apiUrl,
    storeRoot: join(work, 'store'),
    async startScheduler() {
      cluster.scheduler = await startScheduler();
      return cluster.scheduler;
    },
    async stopScheduler() {
      await cluster.scheduler.stop();
    },
    async startSchedulerProcess() {
      await cluster.scheduler.stop();
      schedulerCount += 1;
      const id = `scheduler-${schedulerCount}`;
      const dir = join(work, id);
      await mkdir(dir, { recursive: true });
      const config = join(dir, 'scheduler.yml');
      await writeFile(
        config,
        [
          busYaml,
          'log: { level: info }',
          'metrics: { enabled: false }',
          'scheduler:',
          `  id: ${id}`,
          `  leaseMs: ${options.leaseMs ?? 5000}`,
          `  maxAttempts: ${options.maxAttempts ?? 3}`,
          '  checkIntervalMs: 200',
          `  workDir: '${join(work, 'scheduler')}'`,
          `  sources: { url: '${sources.url}', branch: main, pollIntervalMs: ${options.pollIntervalMs ?? 0} }`,
          '',
        ].join('\n'),
      );
      return spawnService('scheduler', id, config);
    },
    async startRunner(runnerOptions = {}) {
      const id = runnerOptions.id ?? `runner-${randomUUID().slice(0, 6)}`;
      const dir = join(work, id);
      const runner = await startRunnerService(
        loadConfig(RunnerSettings, {
          env: {},
          defaults: {
            id,
            group: runnerOptions.group ?? 'default',
            arches: runnerOptions.arches ?? ['x86_64'],
            slots: runnerOptions.slots ?? 4,
            heartbeatMs: 1000,
            graceMs: 2000,
            workDir: join(dir, 'work'),
            cacheDir: join(dir, 'cache'),
            buildroot: 'host',
          },
        }),
        { bus: newBus(id, 'runner', runnerOptions.group ?? 'default'), store, logger, env: {}, noEngine: true },
      );
      cleanups.push(() => runner.stop());
      return runner.runner;
    },
    async startRunnerProcess(runnerOptions) {
      const dir = join(work, runnerOptions.id);
      await mkdir(dir, { recursive: true });
      const config = join(dir, 'runner.yml');
      await writeFile(
        config,
        [
          busYaml,
          `storage: { type: fs, root: '${join(work, 'store')}' }`,
          'log: { level: info }',
          'metrics: { enabled: false }',
          'runner:',
          `  id: ${runnerOptions.id}`,
          `  group: ${runnerOptions.group ?? 'default'}`,
          `  slots: ${runnerOptions.slots ?? 1}`,
          '  heartbeatMs: 1000',
          `  workDir: '${join(dir, 'work')}'`,
          `  cacheDir: '${join(dir, 'cache')}'`,
          '  buildroot: host',
          '  graceMs: 2000',
          '',
        ].join('\n'),
      );
      return spawnService('runner', runnerOptions.id, config);
    },
    async submit(project, extra = {}) {
      const submit: BuildSubmit = {
        v: 1,
        type: 'build.submit',
        submitId: randomUUID(),
        project,
        reason: 'manual',
        requestedBy: 'test',
        ...extra,
      };
      await bus.publish(topics.submit, { key: project, value: submit });
      return submit;
    },
    async reached(buildId, states, timeoutMs = 60_000) {
      const find = (): BuildEvent | undefined => events.find((e) => e.buildId === buildId && states.includes(e.state));
      await waitFor(() => find() !== undefined, `build ${buildId} to reach ${states.join('/')}`, timeoutMs, 50);
      return find() as BuildEvent;
    },
    buildIdsOf(submitId) {
      return [...new Set(events.filter((e) => e.submitId === submitId).map((e) => e.buildId))];
    },
    async stop() {
      await watch.close();
      await dead.close();
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    },
  };
  return cluster;
}
