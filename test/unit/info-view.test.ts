/** The info service's view: folding build events into records, without I/O. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerQuery } from '../../info-service/queries.ts';
import { BuildView } from '../../info-service/view.ts';
import { effectOf, isMessage, type BuildEvent, type BuildState, type Target } from '../../shared/messages/index.ts';
import { testEvent } from '../fixtures/messages.ts';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const sha = (n: number): string => n.toString(16).padStart(64, '0');

function event(
  buildId: string,
  state: BuildState,
  second: number,
  more: Partial<BuildEvent> & { project?: string; target?: Target } = {},
): BuildEvent {
  const at = new Date(T0 + second * 1000).toISOString();
  const source = { service: 'scheduler', instance: 's1' };
  return testEvent(more.project ?? 'projects/demo/hello-deb', state, { buildId, at, source, ...more });
}

const runner = (state: BuildState, more: Partial<BuildEvent> = {}): Partial<BuildEvent> => ({
  source: { service: 'runner', instance: 'r1' },
  runnerId: 'r1',
  ...more,
  ...(state === 'heartbeat' ? { leaseMs: 30_000 } : {}),
});

const artifact = {
  name: 'hello_1.0_amd64.deb',
  kind: 'deb',
  size: 10,
  sha256: sha(1),
  key: 'builds/b1/1/x.deb',
} as const;

function happyPath(view: BuildView, buildId: string, more: Partial<BuildEvent> = {}): void {
  view.apply(event(buildId, 'submitted', 0, { submitId: 'sub-1', ...more }));
  view.apply(event(buildId, 'queued', 1, more));
  view.apply(event(buildId, 'claimed', 2, { ...runner('claimed'), ...more }));
  view.apply(event(buildId, 'heartbeat', 3, { ...runner('heartbeat'), ...more }));
  view.apply(event(buildId, 'building', 4, { ...runner('building'), ...more }));
  view.apply(
    event(buildId, 'succeeded', 5, {
      ...runner('succeeded'),
      artifacts: [artifact],
      logKey: `builds/${buildId}/1/build.log`,
      durations: { build: 1000 },
      ...more,
    }),
  );
}

describe('info view: state rules', () => {
  it('records every state change in order, heartbeats only renew', () => {
    const view = new BuildView();
    happyPath(view, 'b1');
    const record = view.get('b1');
    assert.ok(record);
    assert.equal(record.state, 'succeeded');
    assert.deepEqual(
      record.history.map((h) => h.state),
      ['submitted', 'queued', 'claimed', 'building', 'succeeded'],
    );
    assert.equal(record.runnerId, 'r1');
    assert.equal(record.submitId, 'sub-1');
    assert.deepEqual(record.submitIds, ['sub-1']);
    assert.deepEqual(record.artifacts, [artifact]);
    assert.equal(record.logKey, 'builds/b1/1/build.log');
    assert.equal(record.createdAt, new Date(T0).toISOString());
    assert.equal(record.updatedAt, new Date(T0 + 5000).toISOString());
    assert.ok(
      isMessage('info.answer', {
        v: 1,
        type: 'info.answer',
        queryId: 'q',
        replyTo: 'r',
        at: record.updatedAt,
        builds: [record],
      }),
    );
    view.apply(event('b1', 'heartbeat', 9, runner('heartbeat')));
    assert.equal(view.get('b1')?.updatedAt, new Date(T0 + 9000).toISOString(), 'a heartbeat moves updatedAt');
    assert.equal(view.get('b1')?.history.length, 5, 'but adds no history');
  });

  it('does not move a build backwards on late events of the same attempt', () => {
    const view = new BuildView();
    view.apply(event('b1', 'queued', 1));
    view.apply(event('b1', 'building', 4, runner('building')));
    const outcome = view.apply(event('b1', 'claimed', 2, runner('claimed')));
    assert.equal(outcome.effect, 'history');
    const record = view.get('b1');
    assert.equal(record?.state, 'building');
    assert.deepEqual(
      record?.history.map((h) => h.state),
      ['queued', 'claimed', 'building'],
      'the late event is in the history, in time order',
    );
    assert.equal(record?.updatedAt, new Date(T0 + 4000).toISOString());
  });

  it('a later attempt counts, an earlier one does not', () => {
    const view = new BuildView();
    view.apply(event('b1', 'building', 4, runner('building')));
    view.apply(event('b1', 'queued', 10, { attempt: 2 }));
    let record = view.get('b1');
    assert.equal(record?.state, 'queued');
    assert.equal(record?.attempt, 2);
    assert.equal(record?.runnerId, undefined, 'the runner of attempt 1 is not the runner of attempt 2');
    view.apply(event('b1', 'uploading', 11, runner('uploading')));
    record = view.get('b1');
    assert.equal(record?.state, 'queued', 'attempt 1 is over');
    view.apply(event('b1', 'heartbeat', 12, runner('heartbeat', { runnerId: 'r-old' })));
    assert.equal(view.get('b1')?.runnerId, undefined, "an old attempt's heartbeat names no runner");
    view.apply(event('b1', 'claimed', 13, { attempt: 2, ...runner('claimed', { runnerId: 'r2' }) }));
    assert.equal(view.get('b1')?.runnerId, 'r2');
  });

  it('terminal builds keep their state; later events go to the history only', () => {
    const view = new BuildView();
    view.apply(event('b1', 'building', 1, runner('building')));
    view.apply(event('b1', 'cancelled', 2, { reason: 'asked by alice' }));
    view.apply(event('b1', 'succeeded', 3, runner('succeeded', { artifacts: [artifact] })));
    view.apply(event('b1', 'queued', 4, { attempt: 2 }));
    const record = view.get('b1');
    assert.equal(record?.state, 'cancelled');
    assert.equal(record?.reason, 'asked by alice');
    assert.deepEqual(
      record?.history.map((h) => h.state),
      ['building', 'cancelled', 'succeeded', 'queued'],
    );
  });

  it('the first succeeded counts; after it only published or the collector failing count', () => {
    const view = new BuildView();
    happyPath(view, 'b1');
    view.apply(
      event('b1', 'failed', 6, { attempt: 2, ...runner('failed'), error: { code: 'build-failed', message: 'x' } }),
    );
    view.apply(event('b1', 'succeeded', 7, { attempt: 2, ...runner('succeeded', { artifacts: [] }) }));
    view.apply(event('b1', 'failed', 8, runner('failed', { error: { code: 'build-failed', message: 'late' } })));
    let record = view.get('b1');
    assert.equal(record?.state, 'succeeded');
    assert.equal(record?.attempt, 1);
    assert.deepEqual(record?.artifacts, [artifact], 'the artifacts of the first success');
    view.apply(
      event('b1', 'failed', 9, {
        source: { service: 'collector', instance: 'c1' },
        error: { code: 'artifact-missing', message: 'gone' },
      }),
    );
    record = view.get('b1');
    assert.equal(record?.state, 'failed', "the collector's verdict counts");
    assert.equal(record?.error?.code, 'artifact-missing');

    const published = new BuildView();
    happyPath(published, 'b2');
    published.apply(
      event('b2', 'published', 6, {
        source: { service: 'collector', instance: 'c1' },
        repo: { url: 'http://x/repos/projects/demo/bookworm/apt', version: 'v1' },
      }),
    );
    assert.equal(published.get('b2')?.state, 'published');
    assert.equal(published.get('b2')?.repo?.version, 'v1');
  });

  it('takes the artifacts of a success that arrives after published', () => {
    const view = new BuildView();
    view.apply(event('b1', 'building', 1, runner('building')));
    view.apply(
      event('b1', 'published', 3, {
        source: { service: 'collector', instance: 'c' },
        repo: { url: 'u', version: 'v' },
      }),
    );
    view.apply(event('b1', 'succeeded', 2, runner('succeeded', { artifacts: [artifact], logKey: 'k/build.log' })));
    const record = view.get('b1');
    assert.equal(record?.state, 'published');
    assert.deepEqual(record?.artifacts, [artifact]);
    assert.equal(record?.logKey, 'k/build.log');
    assert.deepEqual(
      record?.history.map((h) => h.state),
      ['building', 'succeeded', 'published'],
    );
  });

  it('a second submitted only adds its submitId', () => {
    const view = new BuildView();
    view.apply(event('b1', 'submitted', 0, { submitId: 's1' }));
    view.apply(event('b1', 'queued', 1, { submitId: 's1' }));
    const outcome = view.apply(event('b1', 'submitted', 5, { submitId: 's2' }));
    assert.equal(outcome.effect, 'resubmit');
    const record = view.get('b1');
    assert.equal(record?.state, 'queued');
    assert.deepEqual(record?.submitIds, ['s1', 's2']);
    assert.equal(record?.submitId, 's1');
    assert.equal(record?.history.length, 2);
    assert.deepEqual(
      view.bySubmitId('s2').map((r) => r.buildId),
      ['b1'],
    );
  });

  it('a late first submitted goes into the history without moving the state', () => {
    const view = new BuildView();
    view.apply(event('b1', 'queued', 1, { submitId: 's1' }));
    view.apply(event('b1', 'submitted', 0, { submitId: 's1' }));
    const record = view.get('b1');
    assert.equal(record?.state, 'queued');
    assert.deepEqual(
      record?.history.map((h) => h.state),
      ['submitted', 'queued'],
    );
    assert.equal(record?.createdAt, new Date(T0).toISOString());
  });

  it('the same event twice is recorded once', () => {
    const view = new BuildView();
    const claimed = event('b1', 'claimed', 2, runner('claimed'));
    view.apply(event('b1', 'queued', 1));
    assert.equal(view.apply(claimed).changed, true);
    assert.equal(view.apply(claimed).changed, false);
    assert.equal(view.get('b1')?.history.length, 2);
  });

  it('ignores a heartbeat of an unknown build and keeps reason from the event', () => {
    const view = new BuildView();
    assert.equal(view.apply(event('b9', 'heartbeat', 1, runner('heartbeat'))).effect, 'ignore');
    assert.equal(view.size, 0);
    view.apply(event('b1', 'waiting', 1, { reason: 'no runner for bookworm.x86_64' }));
    assert.equal(view.get('b1')?.reason, 'no runner for bookworm.x86_64');
    view.apply(event('b1', 'queued', 2));
    assert.equal(view.get('b1')?.reason, undefined, 'a new state without a reason clears it');
  });

  it('rejects a time that names no real instant', () => {
    const view = new BuildView();
    assert.throws(() => view.apply({ ...event('b1', 'queued', 1), at: '2025-03-01T10:00:60Z' }), /not a real time/);
  });

  it('keeps a retriable failure open: the next attempt moves the record, the scheduler closes it', () => {
    const storeDown = { code: 'storage-unavailable', message: 'S3 store: 503', retriable: true };
    const view = new BuildView();
    view.apply(event('b1', 'queued', 0));
    view.apply(event('b1', 'building', 1, runner('building')));
    view.apply(event('b1', 'failed', 2, runner('failed', { error: storeDown })));
    assert.deepEqual(view.get('b1')?.error, storeDown, 'the record keeps retriable');
    assert.equal(view.get('b1')?.state, 'failed');
    const again = view.apply(event('b1', 'queued', 3, { attempt: 2, reason: 'retrying: ...' }));
    assert.equal(again.effect, 'apply');
    assert.equal(view.get('b1')?.state, 'queued');
    assert.equal(view.get('b1')?.attempt, 2);
    view.apply(event('b1', 'failed', 4, runner('failed', { attempt: 2, error: storeDown })));
    const closed = view.apply(event('b1', 'failed', 5, { attempt: 2, error: { ...storeDown, retriable: false } }));
    assert.equal(closed.effect, 'apply', 'the scheduler closes the open failure');
    assert.equal(view.get('b1')?.error?.retriable, false);
    assert.equal(view.apply(event('b1', 'queued', 6, { attempt: 3 })).effect, 'history', 'nothing follows the end');
  });

  it('effectOf decides without a view', () => {
    const cur = { state: 'building', attempt: 2, submitted: true } as const;
    const src = { service: 'runner' };
    assert.equal(effectOf(cur, { state: 'succeeded', attempt: 1, source: src }), 'apply');
    assert.equal(effectOf(cur, { state: 'failed', attempt: 1, source: src }), 'history');
    assert.equal(effectOf(cur, { state: 'failed', attempt: 2, source: src }), 'apply');
    assert.equal(effectOf(cur, { state: 'claimed', attempt: 2, source: src }), 'history');
    assert.equal(effectOf(cur, { state: 'heartbeat', attempt: 2, source: src }), 'heartbeat');
    assert.equal(effectOf(undefined, { state: 'building', attempt: 1, source: src }), 'create');
  });
});

describe('info view: questions', () => {
  function filled(): BuildView {
    const view = new BuildView();
    const targets = [
      { dist: 'bookworm', arch: 'x86_64' },
      { dist: 'bookworm', arch: 'aarch64' },
      { dist: 'fedora40', arch: 'x86_64' },
    ];
    let n = 0;
    for (const project of ['projects/demo/hello-deb', 'projects/demo/hello-rpm', 'projects/other/tool']) {
      for (const target of targets) {
        n += 1;
        view.apply(event(`old-${n}`, 'submitted', n, { project, target, submitId: 'first' }));
        view.apply(event(`old-${n}`, 'failed', n + 100, { project, target }));
        view.apply(event(`new-${n}`, 'submitted', n + 200, { project, target, submitId: 'second' }));
        view.apply(event(`new-${n}`, 'queued', n + 300, { project, target }));
      }
    }
    return view;
  }

  it('latest per project and target', () => {
    const view = filled();
    const latest = view.latest('projects/demo/hello-rpm');
    assert.deepEqual(
      latest.map((r) => `${r.target.dist}.${r.target.arch}:${r.buildId}`),
      ['bookworm.aarch64:new-5', 'bookworm.x86_64:new-4', 'fedora40.x86_64:new-6'],
    );
    assert.deepEqual(
      view.latest('projects/demo/hello-rpm', { dist: 'fedora40', arch: 'x86_64' }).map((r) => r.buildId),
      ['new-6'],
    );
    assert.deepEqual(view.latest('projects/none'), []);
  });

  it('lists newest first with filters, limit and truncated', () => {
    const view = filled();
    const all = view.list();
    assert.equal(all.builds.length, 18);
    assert.equal(all.truncated, false);
    assert.deepEqual(
      all.builds.slice(0, 3).map((r) => r.buildId),
      ['new-9', 'new-8', 'new-7'],
    );
    const limited = view.list({ limit: 4 });
    assert.equal(limited.builds.length, 4);
    assert.equal(limited.truncated, true);
    assert.deepEqual(
      view.list({ projectPrefix: 'projects/demo/', states: ['failed'], arch: 'x86_64' }).builds.map((r) => r.buildId),
      ['old-6', 'old-4', 'old-3', 'old-1'],
    );
    assert.deepEqual(
      view.list({ project: 'projects/other/tool', dist: 'fedora40' }).builds.map((r) => r.buildId),
      ['new-9', 'old-9'],
    );
    assert.deepEqual(view.list({ submitId: 'first', dist: 'bookworm', limit: 2 }), {
      builds: [view.get('old-8'), view.get('old-7')],
      truncated: true,
    });
    const since = new Date(T0 + 305_000).toISOString();
    assert.deepEqual(
      view.list({ since }).builds.map((r) => r.buildId),
      ['new-9', 'new-8', 'new-7', 'new-6', 'new-5'],
    );
  });

  it('answers info.query messages with valid answers', () => {
    const view = filled();
    const source = { service: 'info-service', instance: 'i1' };
    const base = { v: 1, type: 'info.query', queryId: 'q1', replyTo: 'c1' } as const;
    const byId = answerQuery(view, { ...base, buildId: 'new-1' }, source);
    assert.deepEqual(
      byId.builds.map((r) => r.buildId),
      ['new-1'],
    );
    assert.ok(isMessage('info.answer', byId));
    const unknown = answerQuery(view, { ...base, buildId: 'nope' }, source);
    assert.deepEqual(unknown.builds, []);
    const byProject = answerQuery(view, { ...base, project: 'projects/demo/hello-deb' }, source);
    assert.equal(byProject.builds.length, 3);
    const list = answerQuery(view, { ...base, list: { states: ['queued'], limit: 2 } }, source);
    assert.equal(list.truncated, true);
    assert.ok(isMessage('info.answer', list));
    const bad = answerQuery(view, { ...base, list: { since: '2025-03-01T10:00:60Z' } }, source);
    assert.equal(bad.error?.code, 'message-invalid');
    assert.ok(isMessage('info.answer', bad));
  });

  it('forgets the least recently updated builds beyond maxBuilds', () => {
    const view = new BuildView({ maxBuilds: 3 });
    for (let n = 1; n <= 5; n++) view.apply(event(`b${n}`, 'queued', n, { submitId: `s${n}` }));
    assert.equal(view.size, 3);
    assert.equal(view.get('b1'), undefined);
    assert.deepEqual(view.bySubmitId('s2'), []);
    assert.deepEqual(
      view.list().builds.map((r) => r.buildId),
      ['b5', 'b4', 'b3'],
    );
    assert.equal(view.latest('projects/demo/hello-deb')[0]?.buildId, 'b5');
  });

  it('keeps the history of a build bounded', () => {
    const view = new BuildView({ maxHistory: 5 });
    view.apply(event('b1', 'submitted', 0));
    for (let attempt = 1; attempt <= 10; attempt++) view.apply(event('b1', 'queued', attempt, { attempt }));
    const history = view.get('b1')?.history ?? [];
    assert.equal(history.length, 5);
    assert.equal(history[0]?.state, 'submitted', 'the first entry stays');
    assert.equal(history.at(-1)?.attempt, 10);
  });
});

describe('info view: size', () => {
  it('holds 100,000 builds of 8 events each in bounded time and memory', () => {
    const view = new BuildView();
    const before = process.memoryUsage().heapUsed;
    const started = Date.now();
    const states: BuildState[] = ['submitted', 'queued', 'claimed', 'heartbeat', 'preparing', 'building', 'uploading'];
    for (let n = 0; n < 100_000; n++) {
      const buildId = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
      const project = `projects/p${n % 500}/pkg${n % 37}`;
      const more = { project, commit: sha(n % 1000), submitId: `sub-${n >> 2}` };
      states.forEach((state, i) =>
        view.apply(event(buildId, state, n + i, { ...more, ...(i >= 2 ? runner(state) : {}) })),
      );
      view.apply(
        event(buildId, 'succeeded', n + 8, {
          ...more,
          ...runner('succeeded'),
          artifacts: [{ ...artifact, key: `builds/${buildId}/1/x.deb` }],
          logKey: `builds/${buildId}/1/build.log`,
          durations: { checkout: 1, buildroot: 2, build: 3, upload: 4 },
        }),
      );
    }
    const elapsed = Date.now() - started;
    const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    assert.equal(view.size, 100_000);
    // Catches a fold that grows worse than linear (minutes); its speed is measured in
    // test/bench/info-query.ts, not here, where other test files share the CPU.
    assert.ok(elapsed < 120_000, `folding took ${elapsed} ms`);
    // Garbage of the fold may still be on the heap: the bound is generous, the point is "not GBs".
    assert.ok(grown < 400, `the heap grew by ${grown.toFixed(0)} MiB`);
    const listStarted = Date.now();
    const { builds, truncated } = view.list({ projectPrefix: 'projects/p7/', states: ['succeeded'], limit: 1000 });
    assert.equal(builds.length, 200);
    assert.equal(truncated, false);
    assert.ok(Date.now() - listStarted < 1000, 'a full scan with a filter is quick');
  });
});
