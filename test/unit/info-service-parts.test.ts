/** The info service's pure parts besides the view: live logs, catch-up, event filters, request parsing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatchUpTracker } from '../../info-service/catch-up.ts';
import { EventStream, eventFrame, matchesFilter } from '../../info-service/event-stream.ts';
import { cancelOf, eventFilterOf, listFilterOf, submitOf, targetOf } from '../../info-service/http/requests.ts';
import { LiveLogs, type LogFollower } from '../../info-service/live-logs.ts';
import { StreamGate } from '../../info-service/stream-gate.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { statusOf } from '../../shared/http/index.ts';
import { isMessage, type BuildEvent, type LogChunk } from '../../shared/messages/index.ts';

const at = '2025-03-01T10:00:00.000Z';

function chunk(buildId: string, seq: number, lines: string[], more: Partial<LogChunk> = {}): LogChunk {
  return { v: 1, type: 'log.chunk', buildId, attempt: 1, seq, lines, at, ...more };
}

function recorder(): LogFollower & { got: string[]; ended: boolean } {
  const follower = {
    got: [] as string[],
    ended: false,
    write: (lines: readonly string[]) => void follower.got.push(...lines),
    end: () => {
      follower.ended = true;
    },
  };
  return follower;
}

describe('live logs', () => {
  it('keeps the last lines of a running build and drops late or repeated chunks', () => {
    const logs = new LiveLogs({ maxLinesPerBuild: 3 });
    logs.add(chunk('b', 0, ['1', '2']));
    logs.add(chunk('b', 1, ['3', '4']));
    logs.add(chunk('b', 1, ['3', '4']));
    logs.add(chunk('b', 0, ['late']));
    assert.deepEqual(logs.lines('b'), ['2', '3', '4']);
    assert.equal(logs.isRunning('b'), true);
    assert.equal(logs.lines('other'), undefined);
  });

  it('followers get what is kept, then each chunk, and end with the final one', () => {
    const logs = new LiveLogs();
    logs.add(chunk('b', 0, ['a']));
    const follower = recorder();
    logs.follow('b', follower);
    logs.add(chunk('b', 1, ['b', 'c']));
    logs.add(chunk('b', 2, ['d'], { final: true }));
    assert.deepEqual(follower.got, ['a', 'b', 'c', 'd']);
    assert.equal(follower.ended, true);
    assert.equal(logs.isRunning('b'), false);
    assert.deepEqual(logs.lines('b'), ['a', 'b', 'c', 'd'], 'kept a while after the final chunk');
    logs.add(chunk('b', 3, ['after the end']));
    assert.deepEqual(logs.lines('b'), ['a', 'b', 'c', 'd']);
  });

  it('a follower may wait for a build that has not logged yet; settle ends it', () => {
    const logs = new LiveLogs();
    const waiting = recorder();
    logs.follow('b', waiting);
    assert.equal(logs.isRunning('b'), false);
    logs.add(chunk('b', 0, ['x']));
    assert.deepEqual(waiting.got, ['x']);
    logs.settle('b');
    assert.equal(waiting.ended, true);

    const gone = recorder();
    const stop = logs.follow('c', gone);
    stop();
    assert.equal(logs.size, 0, 'a placeholder nobody follows is dropped');
  });

  it('a new attempt starts the log again; an old attempt is ignored', () => {
    const logs = new LiveLogs();
    const follower = recorder();
    logs.add(chunk('b', 0, ['first try']));
    logs.follow('b', follower);
    logs.add(chunk('b', 0, ['second try'], { attempt: 2 }));
    logs.add(chunk('b', 5, ['stale'], { attempt: 1 }));
    assert.deepEqual(logs.lines('b'), ['--- attempt 2 ---', 'second try']);
    assert.deepEqual(follower.got, ['first try', '--- attempt 2 ---', 'second try']);
  });

  it('bounds builds, ended builds and line length', () => {
    const logs = new LiveLogs({ maxBuilds: 2, maxEnded: 1, maxLineLength: 5 });
    const first = recorder();
    logs.add(chunk('a', 0, ['123456789']));
    logs.follow('a', first);
    logs.add(chunk('b', 0, ['b']));
    logs.add(chunk('c', 0, ['c']));
    assert.equal(logs.size, 2);
    assert.equal(first.ended, true, 'the least recently written build is dropped, its followers ended');
    assert.deepEqual(logs.lines('a'), ['12345…']);
    logs.add(chunk('b', 1, [], { final: true }));
    assert.equal(logs.lines('a'), undefined, 'only the last ended build is kept');
    assert.deepEqual(logs.lines('b'), ['b']);
  });
});

describe('catch-up tracker', () => {
  it('is caught up when every partition reached its end offset at start', () => {
    const tracker = new CatchUpTracker(
      new Map([
        [0, '3'],
        [1, '0'],
        [2, '2'],
      ]),
    );
    assert.equal(tracker.caughtUp, false);
    assert.deepEqual(tracker.behind, [0, 2]);
    assert.equal(tracker.seen(0, '1'), false);
    assert.equal(tracker.seen(2, '1'), false);
    assert.deepEqual(tracker.behind, [0]);
    assert.equal(tracker.seen(0, '2'), true);
    assert.equal(tracker.caughtUp, true);
    assert.equal(tracker.seen(0, '9'), false, 'later records change nothing');
    assert.equal(new CatchUpTracker(new Map([[0, '0']])).caughtUp, true, 'an empty topic');
  });
});

describe('event stream', () => {
  const event = {
    v: 1,
    type: 'build.event',
    buildId: 'b1',
    attempt: 1,
    buildKey: 'projects/p/x@d.a',
    project: 'projects/p/x',
    target: { dist: 'd', arch: 'a' },
    repoKey: 'projects/p/d',
    state: 'queued',
    at,
    source: { service: 'scheduler', instance: 's' },
    submitId: 's1',
  } satisfies BuildEvent;

  it('filters by project, build and submission', () => {
    assert.equal(matchesFilter(event, {}), true);
    assert.equal(matchesFilter(event, { project: 'projects/p/x', submitId: 's1' }), true);
    assert.equal(matchesFilter(event, { buildId: 'b2' }), false);
    assert.equal(eventFrame(event), `event: build.event\ndata: ${JSON.stringify(event)}\n\n`);
  });

  it('sends to matching clients and drops one that does not read', () => {
    const stream = new EventStream(100);
    const frames: string[] = [];
    let closed = 0;
    const why: string[] = [];
    const close = (reason: string): void => {
      closed++;
      why.push(reason);
    };
    stream.add({ send: (f) => (frames.push(f), 0), close }, { buildId: 'b1' });
    stream.add({ send: () => 1000, close }, {});
    stream.add({ send: () => 0, close }, { buildId: 'other' });
    stream.publish(event);
    assert.equal(frames.length, 1);
    assert.equal(closed, 1, 'the slow client is closed');
    assert.deepEqual(why, ['slow'], 'as a slow client: its response is destroyed, not ended');
    assert.equal(stream.size, 2);
    stream.keepAlive();
    assert.equal(frames.at(-1), ': keep-alive\n\n');
    stream.closeAll();
    assert.equal(closed, 3);
    assert.deepEqual(why, ['slow', 'stopping', 'stopping']);
    assert.equal(stream.size, 0);
  });
});

describe('stream gate', () => {
  const refusedBy = (limit: string) => (error: unknown) =>
    isBuildfleetError(error, 'too-many-streams') && error.context['limit'] === limit;

  it('admits streams up to the per-client and total caps, and a release frees one place once', () => {
    const gate = new StreamGate({ maxPerClient: 2, maxTotal: 3 });
    const a1 = gate.admit('10.0.0.1');
    gate.admit('10.0.0.1');
    assert.throws(() => gate.admit('10.0.0.1'), refusedBy('info.streams.maxPerClient'));
    gate.admit('10.0.0.2');
    assert.throws(() => gate.admit('10.0.0.3'), refusedBy('info.streams.maxTotal'));
    assert.equal(gate.open, 3);
    a1();
    a1();
    assert.equal(gate.open, 2, 'a second release does nothing');
    gate.admit('10.0.0.3');
    assert.throws(() => gate.admit('10.0.0.4'), refusedBy('info.streams.maxTotal'));
    assert.equal(gate.limits.slowReaderMs, 30_000, 'the default');
  });
});

describe('HTTP requests', () => {
  const invalid = (fn: () => unknown, pattern: RegExp): void =>
    assert.throws(fn, (error) => isBuildfleetError(error, 'request-invalid') && pattern.test(error.message));

  it('reads a list filter from query parameters', () => {
    assert.deepEqual(
      listFilterOf(
        new URLSearchParams(
          'project=projects/a/b&projectPrefix=projects/&state=queued,building&state=failed&dist=bookworm&arch=x86_64&since=2025-01-01T00:00:00Z&submitId=s&limit=5',
        ),
      ),
      {
        project: 'projects/a/b',
        projectPrefix: 'projects/',
        states: ['queued', 'building', 'failed'],
        dist: 'bookworm',
        arch: 'x86_64',
        since: '2025-01-01T00:00:00Z',
        submitId: 's',
        limit: 5,
      },
    );
    assert.deepEqual(listFilterOf(new URLSearchParams('project=&state=')), {});
    invalid(() => listFilterOf(new URLSearchParams('state=done')), /state "done"/);
    invalid(() => listFilterOf(new URLSearchParams('limit=1001')), /limit/);
    invalid(() => listFilterOf(new URLSearchParams('limit=2.5')), /limit/);
    invalid(() => listFilterOf(new URLSearchParams('since=yesterday')), /since/);
  });

  it('reads targets and event filters', () => {
    assert.deepEqual(targetOf('fedora.40.x86_64'), { dist: 'fedora.40', arch: 'x86_64' });
    invalid(() => targetOf('bookworm'), /<dist>\.<arch>/);
    assert.deepEqual(eventFilterOf(new URLSearchParams('buildId=b&project=')), { buildId: 'b' });
  });

  it('turns a submission body into a valid build.submit', () => {
    const now = new Date(at);
    const submit = submitOf({ project: 'projects/a/b', targets: [{ dist: 'd', arch: 'a' }] }, () => 'new-id', now);
    assert.ok(isMessage('build.submit', submit));
    assert.equal(submit.submitId, 'new-id');
    assert.equal(submit.reason, 'manual');
    assert.equal(submitOf({ project: 'p', submitId: 'mine' }, () => 'x', now).submitId, 'mine');
    invalid(() => submitOf([], () => 'x', now), /JSON object/);
    invalid(() => submitOf({ targets: [] }, () => 'x', now), /build\.submit/);
    // dist narrows a set (scope dependants or all): with one package it would be accepted and do nothing.
    invalid(() => submitOf({ project: 'p', dist: 'bookworm' }, () => 'x', now), /field "dist" goes with scope/);
    assert.equal(submitOf({ project: 'projects', scope: 'all', dist: 'bookworm' }, () => 'x', now).dist, 'bookworm');
  });

  it('turns a cancel body into a valid control.cancel', () => {
    const now = new Date(at);
    const cancel = cancelOf('b1', undefined, now);
    assert.ok(isMessage('control.cancel', cancel));
    assert.equal(cancelOf('b1', { reason: 'why' }, now).reason, 'why');
    invalid(() => cancelOf('b1', { reason: 3 }, now), /reason/);
    invalid(() => cancelOf('b1', 'text', now), /JSON object/);
  });

  it('maps error codes to statuses', () => {
    assert.equal(statusOf('request-invalid'), 400);
    assert.equal(statusOf('build-unknown'), 404);
    assert.equal(statusOf('bus-unavailable'), 503);
    assert.equal(statusOf('internal'), 500);
  });
});
