/**
 * The client commands of `buildfleet` as real processes (`node bin/buildfleet.js ...`) over a
 * real Kafka, where the test plays the cluster: it takes the build.submit the CLI produced,
 * publishes build.events and log.chunks for it (with the submitId), answers info.query and
 * reads control.cancel; logs and artifacts of finished builds come from a filesystem store.
 * The HTTP path is in cli-client-http.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { foldEvent } from '../../cli/format/record-fold.ts';
import type { Bus, Subscription } from '../../shared/bus/index.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import {
  consumerGroupNames,
  decodeMessage,
  decoderFor,
  topicNames,
  type Artifact,
  type BuildEvent,
  type BuildRecord,
  type BuildState,
  type BuildSubmit,
  type ControlCancel,
  type InfoAnswer,
  type InfoQuery,
  type Target,
  type TopicNames,
} from '../../shared/messages/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { cli, logText, sha256, startCli } from '../harness/cli-process.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { useKafka } from '../harness/kafka.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();
const X86: Target = { dist: 'bookworm', arch: 'x86_64' };
const ARM: Target = { dist: 'bookworm', arch: 'aarch64' };
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
/** The client's own log on stderr: a wait that fails shows what it did. */
const DEBUG = { BUILDFLEET_LOG_LEVEL: 'debug' };

/** Waits until `output()` holds `text`; a timeout shows the end of the output as it is then. */
async function waitForText(output: () => string, text: string, what: string): Promise<void> {
  try {
    await waitFor(() => output().includes(text), what, 60_000);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${output().slice(-4000)}`);
  }
}

describe('buildfleet client commands over Kafka (the test plays the cluster)', { timeout: 300_000 }, () => {
  const prefix = `cli${randomUUID().slice(0, 8)}`;
  const topics: TopicNames = topicNames(prefix);
  const records = new Map<string, BuildRecord>();
  const submits: Array<{ key: string | null; value: BuildSubmit }> = [];
  const scenarioErrors: unknown[] = [];
  const scenarios = new Map<string, (submit: BuildSubmit) => Promise<void>>();
  const subscriptions: Subscription[] = [];
  let bus: Bus;
  let work = '';
  let store: ArtifactStore;
  let kafkaArgs: string[] = [];

  async function publishEvent(event: BuildEvent): Promise<void> {
    const checked = decodeMessage('build.event', event);
    const record = foldEvent(records.get(checked.buildId), checked);
    if (record) records.set(checked.buildId, record);
    await bus.publish(topics.events, { key: checked.repoKey, value: checked });
  }

  function eventOf(
    buildId: string,
    project: string,
    target: Target,
    state: BuildState,
    extra: Partial<BuildEvent> = {},
  ) {
    return {
      v: 1,
      type: 'build.event',
      buildId,
      attempt: 1,
      buildKey: `${project}@${target.dist}.${target.arch}`,
      project,
      target,
      repoKey: `${project.slice(0, project.lastIndexOf('/'))}/${target.dist}`,
      state,
      at: new Date().toISOString(),
      source: { service: 'test', instance: 'cluster' },
      ...extra,
    } as BuildEvent;
  }

  async function publishLog(buildId: string, lines: string[], seq: number, final: boolean): Promise<void> {
    const chunk = decodeMessage('log.chunk', {
      v: 1,
      type: 'log.chunk',
      buildId,
      attempt: 1,
      seq,
      lines,
      at: new Date().toISOString(),
      ...(final ? { final: true } : {}),
    });
    await bus.publish(topics.logs, { key: buildId, value: chunk });
  }

  /** One build of a submission through to `end`, with a stored log and one artifact when it succeeds. */
  async function runBuild(
    submit: BuildSubmit,
    target: Target,
    end: 'published' | 'failed',
    logLines = 5,
  ): Promise<string> {
    const buildId = randomUUID();
    const { project } = submit;
    const at = (state: BuildState, extra: Partial<BuildEvent> = {}) => eventOf(buildId, project, target, state, extra);
    await publishEvent(at('submitted', { submitId: submit.submitId, commit: COMMIT }));
    await publishEvent(at('queued', { submitId: submit.submitId }));
    await publishEvent(at('claimed', { runnerId: 'runner-t', leaseMs: 60_000 }));
    await publishEvent(at('heartbeat', { runnerId: 'runner-t', leaseMs: 60_000 }));
    await publishEvent(at('building', { runnerId: 'runner-t' }));
    const log = logText(logLines);
    const lines = log.trimEnd().split('\n');
    await publishLog(buildId, lines.slice(0, 3), 0, false);
    await publishLog(buildId, lines.slice(3), 1, true);
    const logKey = `builds/${buildId}/1/build.log`;
    await store.put(logKey, log);
    const durations = { checkout: 1200, buildroot: 3400, build: 5600, upload: 78 };
    if (end === 'failed') {
      await publishEvent(
        at('failed', {
          runnerId: 'runner-t',
          logKey,
          durations,
          error: { code: 'build-failed', message: 'dpkg-buildpackage exited with 2' },
        }),
      );
      return buildId;
    }
    const content = `deb of ${target.arch}`;
    const artifact: Artifact = {
      name: `hello_1.0_${target.arch}.deb`,
      kind: 'deb',
      size: Buffer.byteLength(content),
      sha256: sha256(content),
      key: `builds/${buildId}/1/hello_1.0_${target.arch}.deb`,
    };
    await store.put(artifact.key, content);
    await publishEvent(at('uploading', { runnerId: 'runner-t' }));
    await publishEvent(at('succeeded', { runnerId: 'runner-t', artifacts: [artifact], logKey, durations }));
    await publishEvent(
      at('published', { repo: { url: `http://repos.test/${project}/${target.dist}/apt`, version: 'v1' } }),
    );
    return buildId;
  }

  const queries: InfoQuery[] = [];
  function answer(query: InfoQuery): InfoAnswer {
    queries.push(query);
    let builds: BuildRecord[];
    if ('buildId' in query) builds = records.has(query.buildId) ? [records.get(query.buildId) as BuildRecord] : [];
    else if ('project' in query) {
      const latest = new Map<string, BuildRecord>();
      for (const record of records.values()) {
        if (record.project !== query.project) continue;
        if (query.target && (record.target.dist !== query.target.dist || record.target.arch !== query.target.arch))
          continue;
        const seen = latest.get(record.buildKey);
        if (!seen || seen.createdAt <= record.createdAt) latest.set(record.buildKey, record);
      }
      builds = [...latest.values()];
    } else {
      // A list: the filters the CLI uses (a submission's builds for `status <submitId>`).
      const submitId = query.list.submitId;
      builds = [...records.values()].filter((r) => submitId === undefined || r.submitId === submitId);
    }
    const reply: InfoAnswer = {
      v: 1,
      type: 'info.answer',
      queryId: query.queryId,
      replyTo: query.replyTo,
      at: new Date().toISOString(),
      builds,
    };
    return decodeMessage('info.answer', reply);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'buildfleet-cli-client-'));
    store = await createFsArtifactStore({ root: join(work, 'store') });
    bus = createKafkaBus({
      brokers,
      clientId: 'cli-client-test',
      topicPrefix: prefix,
      logger: pino({ level: 'silent' }),
    });
    await bus.ensureTopics(testTopics(prefix));
    const groups = consumerGroupNames(prefix);
    subscriptions.push(
      await bus.consume<BuildSubmit>({
        topics: [topics.submit],
        group: groups.scheduler,
        decode: decoderFor('build.submit'),
        handle: async (record) => {
          submits.push({ key: record.key, value: record.value });
          const scenario = scenarios.get(record.value.project);
          if (scenario) void scenario(record.value).catch((error: unknown) => scenarioErrors.push(error));
        },
      }),
      await bus.serve<InfoQuery>({
        topic: topics.infoRequests,
        group: groups.info,
        decode: decoderFor('info.query'),
        handle: async (record) => answer(record.value),
      }),
    );
    await Promise.all(subscriptions.map((s) => s.ready));
    kafkaArgs = ['--brokers', brokers.join(','), '--topic-prefix', prefix];
  });

  after(async () => {
    await Promise.allSettled(subscriptions.map((s) => s.close()));
    await bus?.close();
    await store?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('build --wait --json submits a valid build.submit and exits 0 once every target is published', async () => {
    const project = 'projects/ok/hello-deb';
    scenarios.set(project, async (submit) => {
      await Promise.all((submit.targets ?? []).map((target) => runBuild(submit, target, 'published')));
    });
    const result = await cli([
      'build',
      project,
      '--target',
      'bookworm.x86_64',
      '--target',
      'bookworm.aarch64',
      '--ref',
      'main',
      '--wait',
      '--json',
      ...kafkaArgs,
    ]);
    assert.deepEqual(scenarioErrors, []);
    assert.equal(result.exitCode, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    const submit = submits.find((s) => s.value.project === project);
    assert.ok(submit, 'the scheduler got the submission');
    assert.equal(submit.key, project, 'keyed by project');
    assert.deepEqual(submit.value.targets, [X86, ARM]);
    assert.equal(submit.value.ref, 'main');
    assert.equal(submit.value.reason, 'manual');
    assert.match(submit.value.requestedBy ?? '', /@cli$/);
    const final = JSON.parse(result.stdout) as BuildRecord[];
    assert.deepEqual(final.map((r) => r.state).sort(), ['published', 'published']);
    assert.deepEqual(final.map((r) => r.buildKey).sort(), [
      `${project}@bookworm.aarch64`,
      `${project}@bookworm.x86_64`,
    ]);
    assert.ok(final.every((r) => r.submitId === submit.value.submitId && r.repo?.version === 'v1'));
    for (const record of final) {
      assert.ok(
        queries.some((q) => 'buildId' in q && q.buildId === record.buildId),
        'the final records are asked of the info service',
      );
    }
    assert.match(result.stderr, /published/, 'the progress lines go to stderr with --json');
  });

  it('build --wait exits 1 when a target fails, printing its error and the last 20 log lines', async () => {
    const project = 'projects/bad/hello-deb';
    scenarios.set(project, async (submit) => {
      // No --target: the "package" declares two targets; one of them fails.
      await Promise.all([runBuild(submit, X86, 'published'), runBuild(submit, ARM, 'failed', 30)]);
    });
    const result = await cli(['build', project, '--wait', '--store', join(work, 'store'), ...kafkaArgs]);
    assert.deepEqual(scenarioErrors, []);
    assert.equal(result.exitCode, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.match(
      result.stdout,
      /hello-deb@bookworm\.aarch64 ended failed: \[build-failed\] dpkg-buildpackage exited with 2/,
    );
    assert.match(result.stdout, /^log line 30$/m);
    assert.match(result.stdout, /^log line 11$/m);
    assert.doesNotMatch(result.stdout, /^log line 10$/m, 'only the last 20 lines');
    assert.match(result.stdout, /hello-deb@bookworm\.x86_64 +published/, 'the state changes are printed');
    assert.match(result.stdout, /hello-deb@bookworm\.aarch64 {2}building {6}attempt 1 {2}runner-t/);
  });

  it('build over Kafka refuses what the HTTP API refuses from clients: a change: id, an id over 128 characters', async () => {
    for (const submitId of ['change:projects/ok/hello-deb@0123abc', 'x'.repeat(129)]) {
      const result = await cli(['build', 'projects/ok/hello-deb', '--submit-id', submitId, ...kafkaArgs]);
      assert.equal(result.exitCode, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
      assert.match(result.stderr, /\[message-invalid\] build\.submit: field "submitId"/);
      assert.ok(!submits.some((s) => s.value.submitId === submitId), 'nothing was published');
    }
  });

  it('status shows a build by id and the latest build of each target of a project', async () => {
    const project = 'projects/ok/hello-deb';
    const [one] = [...records.values()].filter((r) => r.buildKey === `${project}@bookworm.x86_64`);
    assert.ok(one);
    const byId = await cli(['status', one.buildId, '--json', ...kafkaArgs]);
    assert.equal(byId.exitCode, 0, byId.stderr);
    assert.deepEqual(
      (JSON.parse(byId.stdout) as BuildRecord[]).map((r) => [r.buildId, r.state]),
      [[one.buildId, 'published']],
    );
    const byProject = await cli(['status', project, ...kafkaArgs]);
    assert.equal(byProject.exitCode, 0, byProject.stderr);
    assert.match(byProject.stdout, /hello-deb@bookworm\.x86_64 {2}published/);
    assert.match(byProject.stdout, /hello-deb@bookworm\.aarch64 {2}published/);
    assert.match(byProject.stdout, new RegExp(`commit +${COMMIT}`));
    assert.match(byProject.stdout, /durations +checkout 1\.2s {2}buildroot 3\.4s {2}build 5\.6s {2}upload 78ms/);
    assert.match(byProject.stdout, /hello_1\.0_x86_64\.deb {2}deb/);
    const oneTarget = await cli(['status', project, '--target', 'bookworm.aarch64', '--json', ...kafkaArgs]);
    assert.deepEqual(
      (JSON.parse(oneTarget.stdout) as BuildRecord[]).map((r) => r.buildKey),
      [`${project}@bookworm.aarch64`],
    );
    const unknown = await cli(['status', randomUUID(), ...kafkaArgs]);
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /^buildfleet: \[build-unknown\] build [0-9a-f-]+ is unknown$/m);
  });

  it('cancel publishes a valid control.cancel keyed by the build id', async () => {
    const cancels: Array<{ key: string | null; value: ControlCancel }> = [];
    const sub = await bus.subscribe<ControlCancel>({
      name: 'cli-test-control',
      topics: [topics.control],
      decode: decoderFor('control.cancel'),
      handle: async (record) => void cancels.push({ key: record.key, value: record.value }),
    });
    try {
      await sub.ready;
      const buildId = randomUUID();
      const result = await cli(['cancel', buildId, '--reason', 'not needed any more', '--json', ...kafkaArgs]);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { buildId, reason: 'not needed any more' });
      await waitFor(() => cancels.length > 0, 'the control.cancel', 30_000);
      assert.equal(cancels[0]?.key, buildId);
      assert.equal(cancels[0]?.value.buildId, buildId);
      assert.equal(cancels[0]?.value.reason, 'not needed any more');
    } finally {
      await sub.close();
    }
  });

  it('logs -f prints the streamed lines of its build and ends at the final chunk; logs reads a finished one from the store', async () => {
    const project = 'projects/logs/hello-deb';
    const buildId = randomUUID();
    await publishEvent(eventOf(buildId, project, X86, 'building', { runnerId: 'runner-t' }));
    const follow = startCli(['logs', buildId, '-f', ...kafkaArgs], DEBUG);
    try {
      await waitForText(follow.err, 'following the log', 'logs -f to listen');
      await publishLog(buildId, ['first line', 'second line'], 0, false);
      await publishLog(randomUUID(), ['a line of another build'], 0, true);
      await publishLog(buildId, ['last line'], 1, true);
      const result = await follow.child;
      assert.equal(result.exitCode, 0, follow.err().slice(-4000));
      assert.equal(follow.out(), 'first line\nsecond line\nlast line\n');
    } finally {
      follow.child.kill('SIGKILL');
    }

    const finished = [...records.values()].find((r) => r.state === 'failed');
    assert.ok(finished);
    const stored = await cli(['logs', finished.buildId, '--store', join(work, 'store'), ...kafkaArgs]);
    assert.equal(stored.exitCode, 0, stored.stderr);
    assert.equal(stored.stdout, logText(30).trimEnd());
    const noStore = await cli(['logs', finished.buildId, ...kafkaArgs]);
    assert.equal(noStore.exitCode, 1);
    assert.match(
      noStore.stderr,
      /^buildfleet: \[usage\] over Kafka, logs of a build come from the artifact store: .*--store/m,
    );
  });

  it('artifacts --out downloads from the store and checks the sha256', async () => {
    const published = [...records.values()].find((r) => r.state === 'published');
    assert.ok(published);
    const out = join(work, 'kafka-artifacts');
    const result = await cli([
      'artifacts',
      published.buildId,
      '--out',
      out,
      '--store',
      join(work, 'store'),
      ...kafkaArgs,
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    const [artifact] = published.artifacts;
    assert.ok(artifact);
    assert.match(result.stdout, /sha256 ok/);
    assert.equal(sha256(await readFile(join(out, artifact.name), 'utf8')), artifact.sha256);
  });

  it('watch prints the events of its project until Ctrl-C, then exits 0', async () => {
    const project = 'projects/watch/hello-deb';
    const watch = startCli(['watch', '--project', project, '--json', ...kafkaArgs], DEBUG);
    try {
      await waitForText(watch.err, 'watching build events', 'watch to listen');
      const buildId = randomUUID();
      await publishEvent(eventOf(buildId, 'projects/other/x', X86, 'queued'));
      await publishEvent(eventOf(buildId, project, X86, 'queued'));
      await publishEvent(eventOf(buildId, project, X86, 'heartbeat', { runnerId: 'r', leaseMs: 1000 }));
      await publishEvent(eventOf(buildId, project, X86, 'building', { runnerId: 'r' }));
      await waitFor(() => watch.out().trim().split('\n').length >= 2, `two events:\n${watch.out()}`, 30_000);
      watch.child.kill('SIGINT');
      const result = await watch.child;
      assert.equal(result.exitCode, 0, watch.err().slice(-4000));
      const events = watch
        .out()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as BuildEvent);
      assert.deepEqual(
        events.map((e) => [e.project, e.state]),
        [
          [project, 'queued'],
          [project, 'building'],
        ],
      );
    } finally {
      watch.child.kill('SIGKILL');
    }
  });
});
