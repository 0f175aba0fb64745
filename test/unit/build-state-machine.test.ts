/**
 * The build state machine (shared/messages/build-states.ts) against tables written out by hand:
 * what every event state does to a build in every state, within an attempt, from a later and
 * from an earlier attempt, for a closed build and for an open failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BuildStates,
  canMove,
  effectOf,
  hasEnded,
  isOpenFailure,
  submissionProgress,
  type BuildState,
  type CurrentBuild,
  type EventEffect,
  type RuleEvent,
} from '../../shared/messages/index.ts';

/** Column order of the tables: every event state. */
const COLUMNS = BuildStates;
const CODES: Readonly<Record<string, EventEffect>> = {
  A: 'apply',
  h: 'history',
  R: 'resubmit',
  b: 'heartbeat',
  C: 'create',
  i: 'ignore',
};

/**
 * Rows: the build's state; columns: the event's state, in BuildStates order
 *   sub wai que cla pre bui upl suc pub fai can sup t-o unr hb
 * The event comes from a runner (`failed` from the collector: see COLLECTOR_FAILED).
 */
const SAME_ATTEMPT = `
submitted    R A A A A A A A A A A A A A b
waiting      R h A A A A A A A A A A A A b
queued       R h h A A A A A A A A A A A b
claimed      R h h h A A A A A A A A A A b
preparing    R h h h h A A A A A A A A A b
building     R h h h h h A A A A A A A A b
uploading    R h h h h h h A A A A A A A b
succeeded    R h h h h h h h A h h h h h b
published    R h h h h h h h h h h h h h b
failed       R h h h h h h h h h h h h h b
cancelled    R h h h h h h h h h h h h h b
superseded   R h h h h h h h h h h h h h b
timed-out    R h h h h h h h h h h h h h b
unresolvable R h h h h h h h h h h h h h b
open-failure R h h h h h h h h A A A A A b
`;

/** The event is of the next attempt (a re-dispatch). */
const LATER_ATTEMPT = `
submitted    R A A A A A A A A A A A A A b
waiting      R A A A A A A A A A A A A A b
queued       R A A A A A A A A A A A A A b
claimed      R A A A A A A A A A A A A A b
preparing    R A A A A A A A A A A A A A b
building     R A A A A A A A A A A A A A b
uploading    R A A A A A A A A A A A A A b
succeeded    R h h h h h h h A h h h h h b
published    R h h h h h h h h h h h h h b
failed       R h h h h h h h h h h h h h b
cancelled    R h h h h h h h h h h h h h b
superseded   R h h h h h h h h h h h h h b
timed-out    R h h h h h h h h h h h h h b
unresolvable R h h h h h h h h h h h h h b
open-failure R A A A A A A A A A A A A A b
`;

/** The event is of the attempt before (late): only a success and its publishing count. */
const EARLIER_ATTEMPT = `
submitted    R h h h h h h A A h h h h h b
waiting      R h h h h h h A A h h h h h b
queued       R h h h h h h A A h h h h h b
claimed      R h h h h h h A A h h h h h b
preparing    R h h h h h h A A h h h h h b
building     R h h h h h h A A h h h h h b
uploading    R h h h h h h A A h h h h h b
succeeded    R h h h h h h h A h h h h h b
published    R h h h h h h h h h h h h h b
failed       R h h h h h h h h h h h h h b
cancelled    R h h h h h h h h h h h h h b
superseded   R h h h h h h h h h h h h h b
timed-out    R h h h h h h h h h h h h h b
unresolvable R h h h h h h h h h h h h h b
open-failure R h h h h h h h h h h h h h b
`;

/** The collector's `failed` (a success it could not publish), by the build's state, for each attempt relation. */
const COLLECTOR_FAILED = `
             same later earlier
submitted    A    A     A
queued       A    A     A
building     A    A     A
succeeded    A    A     A
published    h    h     h
failed       h    h     h
open-failure A    A     h
`;

type Row = { name: string; codes: string[] };

function rows(table: string): Row[] {
  return table
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([name = '', ...codes]) => ({ name, codes }));
}

const RETRIABLE = { code: 'storage-unavailable', message: 'S3 store: 503', retriable: true };
const FINAL = { code: 'build-failed', message: 'make: Error 2', retriable: false };

/** The build of a row, at attempt 2, with a `submitted` entry in its history. */
function current(name: string): CurrentBuild {
  if (name === 'open-failure') return { state: 'failed', attempt: 2, submitted: true, error: RETRIABLE };
  assert.ok((BuildStates as readonly string[]).includes(name), name);
  return { state: name as BuildState, attempt: 2, submitted: true, error: FINAL };
}

function ruleEvent(state: BuildState, attempt: number, service = 'runner'): RuleEvent {
  return { state, attempt, source: { service }, ...(state === 'failed' ? { error: FINAL } : {}) };
}

describe('build state machine: what an event does to a build', () => {
  for (const [title, table, attempt] of [
    ['within one attempt', SAME_ATTEMPT, 2],
    ['from a later attempt', LATER_ATTEMPT, 3],
    ['from an earlier attempt', EARLIER_ATTEMPT, 1],
  ] as const) {
    it(`decides every (state, event) pair ${title} as the table says`, () => {
      const table_ = rows(table);
      assert.deepEqual(
        table_.map((r) => r.name),
        [...BuildStates.filter((s) => s !== 'heartbeat'), 'open-failure'],
        'one row per state a build can be in',
      );
      for (const row of table_) {
        assert.equal(row.codes.length, COLUMNS.length, row.name);
        COLUMNS.forEach((state, column) => {
          const expected = CODES[row.codes[column] ?? ''];
          assert.equal(effectOf(current(row.name), ruleEvent(state, attempt)), expected, `${row.name} <- ${state}`);
        });
      }
    });
  }

  it("decides the collector's failed (a success it could not publish) from any attempt", () => {
    for (const row of rows(COLLECTOR_FAILED).slice(1)) {
      [2, 3, 1].forEach((attempt, column) => {
        const expected = CODES[row.codes[column] ?? ''];
        const event = ruleEvent('failed', attempt, 'collector');
        assert.equal(effectOf(current(row.name), event), expected, `${row.name} <- collector failed @${attempt}`);
      });
    }
  });

  it('makes a record from the first event of a build, except from a heartbeat', () => {
    for (const state of BuildStates) {
      assert.equal(effectOf(undefined, ruleEvent(state, 1)), state === 'heartbeat' ? 'ignore' : 'create', state);
    }
  });

  it('keeps the first submitted as history when the build was learned from a later event', () => {
    const learned: CurrentBuild = { state: 'queued', attempt: 1, submitted: false };
    assert.equal(effectOf(learned, ruleEvent('submitted', 1)), 'history');
    assert.equal(effectOf({ ...learned, submitted: true }, ruleEvent('submitted', 1)), 'resubmit');
  });

  it('keeps an open failure open against a retriable failure of its own attempt, and closes it with any other end', () => {
    const open = current('open-failure');
    assert.equal(effectOf(open, { ...ruleEvent('failed', 2), error: RETRIABLE }), 'history', 'read twice');
    assert.equal(effectOf(open, { ...ruleEvent('failed', 2), error: { ...RETRIABLE, retriable: false } }), 'apply');
    assert.equal(effectOf(open, { state: 'failed', attempt: 2, source: { service: 'scheduler' } }), 'apply');
    assert.equal(effectOf(open, ruleEvent('cancelled', 2)), 'apply');
  });

  it('tells an open failure from an ended build', () => {
    assert.equal(isOpenFailure({ state: 'failed', error: RETRIABLE }), true);
    assert.equal(isOpenFailure({ state: 'failed', error: FINAL }), false);
    assert.equal(isOpenFailure({ state: 'failed' }), false, 'no error: not retriable');
    assert.equal(isOpenFailure({ state: 'timed-out', error: RETRIABLE }), false, 'only failed is retried');
    assert.equal(hasEnded({ state: 'failed', error: RETRIABLE }), false);
    for (const state of BuildStates) {
      const ended = ['published', 'failed', 'cancelled', 'superseded', 'timed-out', 'unresolvable'].includes(state);
      assert.equal(hasEnded({ state }), ended, state);
    }
  });

  it('allows, within an attempt, exactly the moves of the same-attempt table (closed builds)', () => {
    for (const row of rows(SAME_ATTEMPT).filter((r) => r.name !== 'open-failure')) {
      COLUMNS.forEach((to, column) => {
        if (to === 'submitted') return; // submitted again is a resubmission, never a move
        if (row.name === 'succeeded' && to === 'failed') return; // only the collector's: below
        assert.equal(canMove(row.name as BuildState, to), row.codes[column] === 'A', `${row.name} -> ${to}`);
      });
    }
    assert.equal(canMove('succeeded', 'failed'), true, "the collector's failed");
  });

  it('counts an open failure as queued in the progress of a submission, an ended one as failed', () => {
    const progress = submissionProgress('s', [
      { state: 'failed', error: RETRIABLE },
      { state: 'failed', error: FINAL },
      { state: 'claimed' },
      { state: 'heartbeat' },
      { state: 'waiting', waitingFor: ['b0'] },
      { state: 'published' },
    ]);
    assert.deepEqual(
      {
        failed: progress.failed,
        queued: progress.queued,
        building: progress.building,
        waiting: progress.waitingOnDependencies,
      },
      { failed: 1, queued: 1, building: 2, waiting: 1 },
    );
  });
});
