import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { decodeMessage, type BuildRequest, type LogChunk } from '../../shared/messages/index.ts';
import { RecentCancels } from '../../runner/cancellations.ts';
import { buildEventFor } from '../../runner/job/events.ts';
import { LogSink } from '../../runner/job/log-sink.ts';
import { classifyFailure } from '../../runner/job/outcome.ts';
import { Slots } from '../../runner/slots.ts';

const request: BuildRequest = {
  v: 1,
  type: 'build.request',
  buildId: 'b-1',
  attempt: 2,
  buildKey: 'projects/demo/hello@bookworm.x86_64',
  project: 'projects/demo/hello',
  kind: 'deb',
  target: { dist: 'bookworm', arch: 'x86_64' },
  runnerGroup: 'default',
  source: { url: 'file:///srv/sources', commit: 'a'.repeat(40) },
  submitId: 's-1',
  leaseMs: 30_000,
};

describe('Slots', () => {
  it('says when to pause and when to resume, and makes a request wait for a free slot', async () => {
    const slots = new Slots(2);
    const never = new AbortController().signal;
    assert.equal(await slots.take('a', never), false);
    assert.equal(await slots.take('b', never), true, 'full: pause');
    let third = false;
    const waiting = slots.take('c', never).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false, 'no third build while full');
    assert.equal(slots.free('a'), true, 'was full: resume');
    await waiting;
    assert.deepEqual(slots.ids().sort(), ['b', 'c']);
  });

  it('stops waiting when the signal aborts', async () => {
    const slots = new Slots(1);
    await slots.take('a', new AbortController().signal);
    const controller = new AbortController();
    const waiting = slots.take('b', controller.signal);
    controller.abort();
    await assert.rejects(waiting);
    assert.equal(slots.has('b'), false);
  });
});

describe('classifyFailure', () => {
  it('keeps cancel, shutdown, timeout and failures apart', () => {
    const boom = new BuildfleetError('build-failed', 'gcc failed');
    assert.equal(classifyFailure(boom, { kind: 'cancel', reason: 'user' }).state, 'cancelled');
    assert.equal(classifyFailure(boom, { kind: 'shutdown' }).state, 'handed-back');
    assert.deepEqual(classifyFailure(new BuildfleetError('exec-timeout', 'too slow'), undefined), {
      state: 'timed-out',
      error: { code: 'exec-timeout', message: 'too slow', retriable: false },
    });
    assert.deepEqual(classifyFailure(boom, undefined), {
      state: 'failed',
      error: { code: 'build-failed', message: 'gcc failed', retriable: false },
    });
    assert.equal(classifyFailure(new Error('odd'), undefined).error.code, 'internal');
  });

  it("carries whether the failure is retriable, the error's own flag before its code's", () => {
    const retriable = (error: unknown): boolean | undefined => classifyFailure(error, undefined).error.retriable;
    assert.equal(retriable(new BuildfleetError('storage-unavailable', 'S3 store: 503')), true, 'a store upload failed');
    assert.equal(retriable(new BuildfleetError('upload-failed', 'registry refused')), true);
    assert.equal(retriable(new BuildfleetError('lease-expired', 'lease lost')), true);
    assert.equal(retriable(new BuildfleetError('build-failed', 'make: Error 2')), false, 'the package does not build');
    assert.equal(retriable(new BuildfleetError('buildroot-failed', 'no such package', { retriable: false })), false);
    assert.equal(retriable(new BuildfleetError('storage-unavailable', 'refused', { retriable: false })), false);
    assert.equal(retriable(new Error('odd')), false, 'an unexpected error is not retried');
    const cancel = classifyFailure(new BuildfleetError('storage-unavailable', 'x'), { kind: 'cancel', reason: 'u' });
    assert.equal(cancel.error.retriable, false, 'a cancel is not retried');
  });
});

describe('buildEventFor', () => {
  it('makes a valid build.event keyed to the request', () => {
    const event = buildEventFor(request, 'claimed', 'runner-7', { leaseMs: 30_000 }, new Date('2026-11-22T00:00:00Z'));
    assert.deepEqual(decodeMessage('build.event', event), event);
    assert.equal(event.repoKey, 'projects/demo/bookworm');
    assert.equal(event.attempt, 2);
    assert.deepEqual(event.source, { service: 'runner', instance: 'runner-7' });
  });
});

describe('RecentCancels', () => {
  it('remembers a bounded number of cancels, each taken once', () => {
    const cancels = new RecentCancels(2);
    cancels.remember('a', 'x');
    cancels.remember('b', 'y');
    cancels.remember('c', 'z');
    assert.equal(cancels.take('a'), undefined, 'oldest forgotten');
    assert.equal(cancels.take('b'), 'y');
    assert.equal(cancels.take('b'), undefined);
  });
});

describe('LogSink', () => {
  it('writes the full log and sends numbered chunks ending with a final one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'buildfleet-logsink-'));
    try {
      const sent: LogChunk[] = [];
      const sink = new LogSink({
        buildId: 'b-1',
        attempt: 1,
        file: join(dir, 'build.log'),
        send: async (chunk) => void sent.push(decodeMessage('log.chunk', chunk)),
        onError: (e) => assert.fail(String(e)),
        maxLines: 2,
        flushMs: 10_000,
      });
      for (const line of ['one', 'two', 'three']) sink.line(line);
      await sink.close();
      assert.deepEqual(
        sent.map((c) => [c.seq, c.lines, c.final ?? false]),
        [
          [0, ['one', 'two'], false],
          [1, ['three'], true],
        ],
      );
      assert.equal(await readFile(join(dir, 'build.log'), 'utf8'), 'one\ntwo\nthree\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
