/** The pure parts of the client commands: arguments, lines, records, the submission tracker, SSE, the connection rule. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseConnection, type ClientConfig } from '../../cli/client/connect.ts';
import { listParams } from '../../cli/client/http-client.ts';
import { createSseParser } from '../../cli/client/sse.ts';
import { storageSection } from '../../cli/client/store-choice.ts';
import { clock, eventMatches, formatEventLine } from '../../cli/format/events.ts';
import {
  formatBytes,
  formatDuration,
  formatDurations,
  formatRecord,
  formatRecords,
  lastLines,
} from '../../cli/format/records.ts';
import { formatRepos } from '../../cli/format/repos.ts';
import { foldEvent as foldOrUndefined } from '../../cli/format/record-fold.ts';
import {
  applyEvent,
  newSubmissionWatch,
  submissionVerdict,
  type SubmissionWatch,
} from '../../cli/format/submission.ts';
import { collectTarget, looksLikeBuildId, parseTarget } from '../../cli/format/targets.ts';
import { BuildView } from '../../info-service/view.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { decodeMessage, type BuildEvent, type BuildRecord, type BuildState } from '../../shared/messages/index.ts';

const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
const PROJECT = 'projects/demo/hello-deb';

/** A fold that must make a record. */
function foldEvent(previous: BuildRecord | undefined, e: BuildEvent): BuildRecord {
  const record = foldOrUndefined(previous, e);
  assert.ok(record, `${e.state} makes a record`);
  return record;
}

function event(buildId: string, state: BuildState, extra: Partial<BuildEvent> = {}): BuildEvent {
  const target = extra.target ?? { dist: 'bookworm', arch: 'x86_64' };
  return decodeMessage('build.event', {
    v: 1,
    type: 'build.event',
    buildId,
    attempt: 1,
    buildKey: `${PROJECT}@${target.dist}.${target.arch}`,
    project: PROJECT,
    target,
    repoKey: `projects/demo/${target.dist}`,
    state,
    at: '2025-03-01T12:00:03.000Z',
    source: { service: 'runner', instance: 'runner-a' },
    ...extra,
  });
}

describe('client arguments', () => {
  it('reads --target as <dist>.<arch>, splitting on the last dot', () => {
    assert.deepEqual(parseTarget('bookworm.x86_64'), { dist: 'bookworm', arch: 'x86_64' });
    assert.deepEqual(parseTarget('opensuse-15.6.aarch64'), { dist: 'opensuse-15.6', arch: 'aarch64' });
    assert.deepEqual(collectTarget('a.b', collectTarget('c.d')), [
      { dist: 'c', arch: 'd' },
      { dist: 'a', arch: 'b' },
    ]);
    for (const bad of ['bookworm', '.x86_64', 'bookworm.', 'a/b.x86_64']) {
      assert.throws(
        () => parseTarget(bad),
        (e: unknown) => isBuildfleetError(e, 'usage'),
        bad,
      );
    }
  });

  it('tells build ids (uuids) from projects', () => {
    assert.equal(looksLikeBuildId('8d9a3c1e-2b4f-4e6a-9c7d-1f2e3a4b5c6d'), true);
    assert.equal(looksLikeBuildId('8D9A3C1E-2B4F-4E6A-9C7D-1F2E3A4B5C6D'), true);
    assert.equal(looksLikeBuildId(PROJECT), false);
    assert.equal(looksLikeBuildId('8d9a3c1e'), false);
  });
});

describe('event lines', () => {
  it('prints time, build key, state, attempt, runner and the reason or error', () => {
    assert.equal(
      formatEventLine(event('b1', 'building', { runnerId: 'runner-a', attempt: 2 }), { utc: true }),
      `12:00:03Z  ${PROJECT}@bookworm.x86_64  building      attempt 2  runner-a`,
    );
    assert.equal(
      formatEventLine(event('b1', 'failed', { error: { code: 'build-failed', message: 'make: *** [all] Error 2' } }), {
        utc: true,
      }),
      `12:00:03Z  ${PROJECT}@bookworm.x86_64  failed        attempt 1  -  [build-failed] make: *** [all] Error 2`,
    );
    assert.match(formatEventLine(event('b1', 'waiting', { reason: 'no runner for bookworm.x86_64' })), /no runner for/);
    assert.match(
      formatEventLine(event('b1', 'published', { repo: { url: 'http://h/repos/x/apt', version: 'v7' } })),
      /http:\/\/h\/repos\/x\/apt \(version v7\)$/,
    );
    assert.equal(clock('not a date'), 'not a date');
    assert.match(formatEventLine(event('b1', 'queued'), { keyWidth: 50 }), /x86_64 {13}queued/);
  });

  it('filters events by project, build and submission', () => {
    const e = event('b1', 'queued', { submitId: 's1' });
    assert.equal(eventMatches({}, e), true);
    assert.equal(eventMatches({ project: PROJECT, buildId: 'b1', submitId: 's1' }, e), true);
    assert.equal(eventMatches({ project: 'projects/other' }, e), false);
    assert.equal(eventMatches({ buildId: 'b2' }, e), false);
    assert.equal(eventMatches({ submitId: 's2' }, e), false);
    assert.equal(eventMatches({ submitId: 's1' }, event('b1', 'queued')), false);
  });
});

describe('records', () => {
  it('formats durations, sizes and phases', () => {
    assert.equal(formatDuration(950), '950ms');
    assert.equal(formatDuration(1234), '1.2s');
    assert.equal(formatDuration(75_000), '1m15s');
    assert.equal(formatDuration(3_900_000), '1h05m');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(2048), '2.0 KiB');
    assert.equal(formatBytes(5 * 2 ** 20), '5.0 MiB');
    assert.equal(
      formatDurations({ checkout: 1200, build: 10_000, upload: 450 }),
      'checkout 1.2s  build 10.0s  upload 450ms',
    );
    assert.equal(formatDurations({}), '');
  });

  it('shows state, attempt, runner, commit, durations, error, repo and artifacts of a build', () => {
    let record = foldEvent(undefined, event('b1', 'claimed', { runnerId: 'runner-a', submitId: 's1', commit: COMMIT }));
    record = foldEvent(
      record,
      event('b1', 'succeeded', {
        runnerId: 'runner-a',
        durations: { checkout: 1000, buildroot: 2000, build: 3000, upload: 400 },
        artifacts: [
          { name: 'hello_1.0_amd64.deb', kind: 'deb', size: 2048, sha256: SHA, key: 'builds/b1/1/hello.deb' },
        ],
        logKey: 'builds/b1/1/build.log',
      }),
    );
    record = foldEvent(
      record,
      event('b1', 'published', { repo: { url: 'http://h/repos/projects/demo/bookworm/apt', version: 'v3' } }),
    );
    const text = formatRecord(record).join('\n');
    assert.match(text, /^projects\/demo\/hello-deb@bookworm\.x86_64 {2}published$/m);
    assert.match(text, /attempt +1/);
    assert.match(text, /runner +runner-a/);
    assert.match(text, new RegExp(`commit +${COMMIT}`));
    assert.match(text, /durations +checkout 1\.0s {2}buildroot 2\.0s {2}build 3\.0s {2}upload 400ms/);
    assert.match(text, /repo +http:\/\/h\/repos\/projects\/demo\/bookworm\/apt \(version v3\)/);
    assert.match(text, new RegExp(`hello_1\\.0_amd64\\.deb {2}deb {2}2\\.0 KiB {2}sha256 ${SHA}`));
    assert.doesNotMatch(text, /error/);
    assert.deepEqual(
      record.history.map((h) => h.state),
      ['claimed', 'succeeded', 'published'],
    );
    assert.equal(record.logKey, 'builds/b1/1/build.log');
    assert.equal(record.submitId, 's1');

    const waiting = foldEvent(undefined, event('b3', 'waiting', { reason: 'no runner for bookworm.x86_64' }));
    assert.match(formatRecord(waiting).join('\n'), /reason +no runner for bookworm\.x86_64/);
    assert.equal(foldEvent(waiting, event('b3', 'queued')).reason, undefined, 'a reason goes with its state');

    const failed = foldEvent(undefined, event('b2', 'failed', { error: { code: 'build-failed', message: 'boom' } }));
    assert.match(formatRecord(failed).join('\n'), /error +\[build-failed\] boom/);
    assert.equal(formatRecords([]), 'no builds\n');
    assert.equal(formatRecords([record, failed]).split('\n\n').length, 2);
  });

  it('takes the last lines of a log', () => {
    const log = Array.from({ length: 30 }, (_, n) => `line ${n + 1}`).join('\n') + '\n';
    const tail = lastLines(log, 20);
    assert.equal(tail.length, 20);
    assert.equal(tail[0], 'line 11');
    assert.equal(tail.at(-1), 'line 30');
    assert.deepEqual(lastLines('a\r\nb', 5), ['a', 'b']);
    assert.deepEqual(lastLines('', 5), []);
  });

  it('prints repositories with their apt and dnf lines', () => {
    const text = formatRepos([
      {
        key: 'projects/demo/bookworm',
        format: 'apt',
        dist: 'bookworm',
        url: 'http://h/repos/projects/demo/bookworm/apt',
        keyUrl: 'http://h/repos/projects/demo/bookworm/apt/key.asc',
        version: 'v1',
        publishedAt: '2025-03-01T12:00:00.000Z',
      },
    ]);
    assert.match(
      text,
      /^ {2}deb \[signed-by=\/etc\/apt\/keyrings\/buildfleet\.asc\] http:\/\/h\/repos\/projects\/demo\/bookworm\/apt bookworm main$/m,
    );
    assert.equal(formatRepos([]), 'no published repositories\n');
  });
});

describe('the CLI folds events as the info service does', () => {
  const storeDown = { code: 'storage-unavailable', message: 'S3 store: 503', retriable: true };
  const at = (second: number): string => new Date(Date.parse('2025-03-01T12:00:00.000Z') + second * 1000).toISOString();
  const runnerOf = (attempt: number): Partial<BuildEvent> => ({
    runnerId: `runner-${attempt}`,
    source: { service: 'runner', instance: `runner-${attempt}` },
  });
  const scheduler: Partial<BuildEvent> = { source: { service: 'scheduler', instance: 's' }, commit: COMMIT };
  /** A build whose first attempt fails on the store and is retried, read with repeats and late events. */
  const events: BuildEvent[] = [
    event('b1', 'submitted', { ...scheduler, submitId: 's1', at: at(0) }),
    event('b1', 'queued', { ...scheduler, submitId: 's1', at: at(1) }),
    event('b1', 'claimed', { ...runnerOf(1), at: at(2), leaseMs: 1000 }),
    event('b1', 'heartbeat', { ...runnerOf(1), at: at(3), leaseMs: 1000 }),
    event('b1', 'building', { ...runnerOf(1), at: at(4) }),
    event('b1', 'failed', { ...runnerOf(1), at: at(5), error: storeDown, logKey: 'builds/b1/1/build.log' }),
    event('b1', 'submitted', { ...scheduler, submitId: 's2', at: at(6) }),
    event('b1', 'queued', {
      ...scheduler,
      attempt: 2,
      at: at(7),
      reason: 'retrying: [storage-unavailable] S3 store: 503, attempt 2 of 3',
    }),
    event('b1', 'claimed', { ...runnerOf(2), attempt: 2, at: at(8), leaseMs: 1000 }),
    event('b1', 'building', { ...runnerOf(2), attempt: 2, at: at(9) }),
    event('b1', 'succeeded', {
      ...runnerOf(2),
      attempt: 2,
      at: at(10),
      artifacts: [{ name: 'hello.deb', kind: 'deb', size: 1, sha256: SHA, key: 'builds/b1/2/hello.deb' }],
      logKey: 'builds/b1/2/build.log',
      durations: { build: 1000 },
    }),
    event('b1', 'uploading', { ...runnerOf(1), at: at(11) }),
    event('b1', 'published', {
      source: { service: 'collector', instance: 'c' },
      attempt: 2,
      at: at(12),
      repo: { url: 'http://h/repos/x/apt', version: 'v1' },
    }),
    event('b1', 'building', { ...runnerOf(2), attempt: 2, at: at(9) }),
  ];

  /** A shuffle that is the same on every run (mulberry32). */
  function shuffled<T>(items: readonly T[], seed: number): T[] {
    let state = seed;
    const random = (): number => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  it('gives the same record as the info service after every event, in any order of arrival', () => {
    for (const [seed, order] of [
      [0, events] as const,
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, shuffled(events, n)] as const),
    ]) {
      const view = new BuildView();
      let record: BuildRecord | undefined;
      order.forEach((e, n) => {
        view.apply(e);
        record = foldOrUndefined(record, e);
        assert.deepEqual(record, view.get('b1'), `order ${seed}, after event ${n} (${e.state} attempt ${e.attempt})`);
      });
    }
  });

  it('follows a retried build to its end: the open failure is not the end', () => {
    const watch = newSubmissionWatch('s1');
    const printed = events.slice(0, 6).flatMap((e) => (applyEvent(watch, e) ? [e.state] : []));
    assert.deepEqual(printed, ['submitted', 'queued', 'claimed', 'building', 'failed']);
    assert.equal(submissionVerdict(watch, 'published').status, 'pending', 'the scheduler dispatches it again');
    assert.equal(applyEvent(watch, events[7] as BuildEvent)?.state, 'queued');
    for (const e of events.slice(8)) applyEvent(watch, e);
    assert.equal(submissionVerdict(watch, 'published').status, 'ok');

    const closed = newSubmissionWatch('s1');
    for (const e of events.slice(0, 6)) applyEvent(closed, e);
    const last = event('b1', 'failed', {
      ...scheduler,
      at: at(6),
      error: { ...storeDown, retriable: false },
      reason: 'no attempt left: attempt 1 of 1',
    });
    assert.equal(applyEvent(closed, last)?.error?.retriable, false);
    assert.equal(submissionVerdict(closed, 'published').status, 'failed', 'closed by the scheduler');
  });
});

describe('following a submission', () => {
  function feed(watch: SubmissionWatch, events: BuildEvent[]): string[] {
    return events.flatMap((e) => {
      const changed = applyEvent(watch, e);
      return changed ? [`${changed.buildId}:${changed.state}`] : [];
    });
  }
  const arm = { dist: 'bookworm', arch: 'aarch64' };

  it('learns builds from its submitId, prints state changes only, and is ok when every target is published', () => {
    const watch = newSubmissionWatch('s1');
    assert.equal(submissionVerdict(watch, 'published').status, 'pending', 'no build yet');
    const printed = feed(watch, [
      event('other', 'submitted', { submitId: 's0' }),
      event('b1', 'submitted', { submitId: 's1' }),
      event('b2', 'submitted', { submitId: 's1', target: arm }),
      event('b1', 'claimed', { runnerId: 'r1' }),
      event('b1', 'heartbeat', { runnerId: 'r1' }),
      event('b1', 'building', { runnerId: 'r1' }),
      event('b1', 'building', { runnerId: 'r1' }),
      event('b1', 'succeeded', { runnerId: 'r1' }),
    ]);
    assert.deepEqual(printed, ['b1:submitted', 'b2:submitted', 'b1:claimed', 'b1:building', 'b1:succeeded']);
    assert.equal(submissionVerdict(watch, 'published').status, 'pending');
    feed(watch, [event('b2', 'succeeded')]);
    assert.equal(submissionVerdict(watch, 'succeeded').status, 'ok', '--until succeeded is satisfied');
    assert.equal(submissionVerdict(watch, 'published').status, 'pending');
    feed(watch, [event('b1', 'published'), event('b2', 'published')]);
    const verdict = submissionVerdict(watch, 'published');
    assert.equal(verdict.status, 'ok');
    assert.deepEqual(verdict.status === 'ok' ? verdict.builds.map((b) => b.buildId) : [], ['b1', 'b2']);
  });

  it('follows a reused running build whose later events carry the older submitId', () => {
    const watch = newSubmissionWatch('s2');
    feed(watch, [event('b9', 'submitted', { submitId: 's2' })]);
    assert.deepEqual(feed(watch, [event('b9', 'uploading', { submitId: 's1', runnerId: 'r' })]), ['b9:uploading']);
  });

  it('fails when any target ends badly, and ignores what follows an end', () => {
    const watch = newSubmissionWatch('s3');
    feed(watch, [
      event('b1', 'submitted', { submitId: 's3' }),
      event('b2', 'submitted', { submitId: 's3', target: arm }),
      event('b1', 'published'),
      event('b2', 'failed', { error: { code: 'build-failed', message: 'boom' } }),
    ]);
    assert.deepEqual(feed(watch, [event('b2', 'queued', { attempt: 2 })]), [], 'nothing follows an end');
    const verdict = submissionVerdict(watch, 'published');
    assert.equal(verdict.status, 'failed');
    assert.deepEqual(verdict.status === 'failed' ? verdict.failed.map((b) => b.buildId) : [], ['b2']);
    for (const end of ['cancelled', 'superseded', 'timed-out', 'unresolvable'] as const) {
      const w = newSubmissionWatch('s');
      feed(w, [event('b', 'submitted', { submitId: 's' }), event('b', end)]);
      assert.equal(submissionVerdict(w, 'succeeded').status, 'failed', end);
    }
  });

  it('waits for every expected target when --target names them', () => {
    const watch = newSubmissionWatch('s4', [`${PROJECT}@bookworm.x86_64`, `${PROJECT}@bookworm.aarch64`]);
    feed(watch, [event('b1', 'submitted', { submitId: 's4' }), event('b1', 'published')]);
    const verdict = submissionVerdict(watch, 'published');
    assert.equal(verdict.status, 'pending');
    assert.deepEqual(verdict.status === 'pending' ? verdict.missingKeys : [], [`${PROJECT}@bookworm.aarch64`]);
    feed(watch, [event('b2', 'submitted', { submitId: 's4', target: arm }), event('b2', 'published', { target: arm })]);
    assert.equal(submissionVerdict(watch, 'published').status, 'ok');
  });
});

describe('server-sent events', () => {
  it('parses events split anywhere, with CRLF, comments, multi-line data and ids', () => {
    const stream =
      ': keep-alive\r\n\r\nevent: build.event\r\ndata: {"a":1}\r\n\r\nevent: other\ndata: x\ndata: y\nid: 7\n\ndata: plain\n\n';
    const all = [];
    for (let size = 1; size <= stream.length; size++) {
      const parser = createSseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      all.push(events);
    }
    for (const events of all) {
      assert.deepEqual(events, [
        { event: 'build.event', data: '{"a":1}' },
        { event: 'other', data: 'x\ny', id: '7' },
        { event: 'message', data: 'plain', id: '7' },
      ]);
    }
  });

  it('keeps an unfinished event until its blank line', () => {
    const parser = createSseParser();
    assert.deepEqual(parser.push('event: build.event\ndata: {}\n'), []);
    assert.deepEqual(parser.push('\n'), [{ event: 'build.event', data: '{}' }]);
  });
});

describe('the connection rule', () => {
  const env = (over: Partial<ClientConfig> = {}): ClientConfig => ({
    topicPrefix: 'buildfleet',
    bus: {},
    log: { level: 'fatal' },
    ...over,
  });

  it('--api wins over --brokers; then BUILDFLEET_API, BUILDFLEET_BROKERS, else the local default', () => {
    assert.deepEqual(chooseConnection({ api: 'http://a:1/', brokers: 'k:9092' }, env({ brokers: ['e:9092'] })), {
      kind: 'http',
      url: 'http://a:1',
      from: 'flag',
    });
    const kafka = chooseConnection({ brokers: 'k1:9092, k2:9092,' }, env({ api: 'http://e:8080' }));
    assert.equal(kafka.kind, 'kafka');
    assert.deepEqual(kafka.kind === 'kafka' ? kafka.brokers : [], ['k1:9092', 'k2:9092']);
    assert.deepEqual(chooseConnection({}, env({ api: 'http://e:8080', brokers: ['e:9092'] })), {
      kind: 'http',
      url: 'http://e:8080',
      from: 'env',
    });
    const fromEnv = chooseConnection({ topicPrefix: 'acme' }, env({ brokers: ['e:9092'] }));
    assert.equal(fromEnv.kind === 'kafka' && fromEnv.from, 'env');
    assert.equal(fromEnv.kind === 'kafka' && fromEnv.topicPrefix, 'acme');
    assert.deepEqual(chooseConnection({}, env()), { kind: 'http', url: 'http://127.0.0.1:8080', from: 'default' });
  });

  it('takes the store from --store, else from BUILDFLEET_STORAGE_*', () => {
    const storage = { type: 'fs' as const, root: '/srv/store' };
    const fromFlag = chooseConnection({ brokers: 'k:1', store: '/tmp/s' }, env({ storage }));
    assert.deepEqual(fromFlag.kind === 'kafka' && fromFlag.store, { kind: 'flag', value: '/tmp/s' });
    const fromEnv = chooseConnection({ brokers: 'k:1' }, env({ storage }));
    assert.deepEqual(fromEnv.kind === 'kafka' && fromEnv.store, { kind: 'env', config: storage });
    const none = chooseConnection({ brokers: 'k:1' }, env());
    assert.deepEqual(none.kind === 'kafka' && none.store, { kind: 'none' });
  });

  it('rejects what is not an http(s) URL or a broker list', () => {
    assert.throws(
      () => chooseConnection({ api: 'ftp://x' }, env()),
      (e: unknown) => isBuildfleetError(e, 'usage'),
    );
    assert.throws(
      () => chooseConnection({ api: 'no url' }, env()),
      (e: unknown) => isBuildfleetError(e, 'usage'),
    );
    assert.throws(
      () => chooseConnection({ brokers: ' , ' }, env()),
      (e: unknown) => isBuildfleetError(e, 'usage'),
    );
  });

  it('reads the storage section of a config file, or a bare one', () => {
    assert.deepEqual(storageSection({ bus: {}, storage: { type: 'fs', root: '/x' } }, 'c.yml'), {
      type: 'fs',
      root: '/x',
    });
    const s3 = storageSection({ type: 's3', bucket: 'b', endpoint: 'http://s3:9000' }, 's.yml');
    assert.deepEqual(s3, {
      type: 's3',
      bucket: 'b',
      endpoint: 'http://s3:9000',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
    });
    assert.throws(
      () => storageSection({ storage: { type: 's3' } }, 's.yml'),
      (e: unknown) => isBuildfleetError(e, 'config-invalid') && /bucket/.test(e.message),
    );
    assert.throws(
      () => storageSection({ other: 1 }, 'x.yml'),
      (e: unknown) => isBuildfleetError(e, 'config-invalid'),
    );
  });

  it('puts a list filter into the query string of GET /api/builds', () => {
    assert.equal(listParams({}), '');
    assert.equal(
      listParams({
        project: 'projects/demo/hello',
        projectPrefix: 'projects/demo/',
        submitId: 's1',
        states: ['failed', 'cancelled'],
        dist: 'bookworm',
        limit: 5,
      }),
      '?project=projects%2Fdemo%2Fhello&projectPrefix=projects%2Fdemo%2F&submitId=s1&state=failed%2Ccancelled&dist=bookworm&limit=5',
    );
  });
});
