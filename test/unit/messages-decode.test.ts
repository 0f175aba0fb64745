/** The wording of decode errors, dispatch by type, and the state groups. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { messageExamples } from '../fixtures/messages.ts';
import {
  AttemptFinalStates,
  BuildEventSchema,
  BuildStates,
  EndStates,
  LeasedStates,
  MessageTypes,
  TerminalStates,
  currentVersions,
  decodeAnyMessage,
  decodeMessage,
  isAttemptFinalState,
  isEndState,
  isTerminalState,
  messageSchemas,
  messageVersions,
  type MessageType,
} from '../../shared/messages/index.ts';

function errorOf(decode: () => unknown): { message: string; context: Record<string, unknown> } {
  try {
    decode();
  } catch (error) {
    assert.ok(isBuildfleetError(error, 'message-invalid'), String(error));
    assert.equal(error.retriable, false);
    return { message: error.message, context: error.context };
  }
  assert.fail('expected a message-invalid error');
}

const [request] = messageExamples['build.request'];
const [submit] = messageExamples['build.submit'];
const [, , , , failedEvent] = messageExamples['build.event'];
assert.ok(request !== undefined && submit !== undefined && failedEvent !== undefined);

describe('decode errors', () => {
  it('names a missing field and puts type, field and reason in the context', () => {
    const { submitId: _dropped, ...value } = submit;
    const error = errorOf(() => decodeMessage('build.submit', value));
    assert.equal(error.message, 'build.submit: field "submitId" is required');
    assert.deepEqual(error.context, { type: 'build.submit', field: 'submitId', reason: 'is required' });
  });

  it('names the nested path of a field of the wrong type', () => {
    const value = { ...request, target: { dist: 'bookworm', arch: 64 } };
    assert.equal(
      errorOf(() => decodeMessage('build.request', value)).message,
      'build.request: field "target.arch" must be a string',
    );
    const event = { ...failedEvent, artifacts: [{ name: 'a.deb', kind: 'deb', size: -1, sha256: 'x', key: 'k' }] };
    assert.equal(
      errorOf(() => decodeMessage('build.event', event)).message,
      'build.event: field "artifacts[0].size" must be >= 0',
    );
  });

  it('explains patterns, enums, empty strings and bounds in words', () => {
    const cases: [MessageType, unknown, string][] = [
      ['build.submit', { ...submit, at: 'yesterday' }, 'field "at" must be an ISO 8601 date-time with a time zone'],
      ['build.submit', { ...submit, at: '2025-03-01T12:00:00' }, 'field "at" must be an ISO 8601 date-time'],
      ['build.submit', { ...submit, submitId: '' }, 'field "submitId" must not be empty'],
      ['build.submit', { ...submit, targets: [] }, 'field "targets" must have at least 1 item'],
      [
        'build.submit',
        { ...submit, reason: 'whim' },
        'field "reason" must be one of "manual", "source-change", "dependency", "retry"',
      ],
      [
        'build.request',
        { ...request, source: { url: 'u', commit: 'main' } },
        'field "source.commit" must be a full commit id',
      ],
      ['build.request', { ...request, attempt: 0 }, 'field "attempt" must be >= 1'],
      ['build.request', { ...request, attempt: 1.5 }, 'field "attempt" must be an integer'],
      ['build.request', { ...request, kind: 'zip' }, 'field "kind" must be one of "rpm", "deb", "kiwi", "docker"'],
      ['build.event', { ...failedEvent, state: 'exploded' }, 'field "state" must be one of "submitted", "waiting"'],
      ['deadletter', { ...messageExamples.deadletter[0], key: 5 }, 'field "key" must be a string or null'],
      [
        'deadletter',
        { ...messageExamples.deadletter[0], offset: '-1' },
        'field "offset" must be a decimal offset string',
      ],
    ];
    for (const [type, value, expected] of cases) {
      const { message } = errorOf(() => decodeMessage(type, value));
      assert.ok(message.startsWith(`${type}: ${expected}`), `"${message}" should start with "${type}: ${expected}"`);
    }
  });

  it('says what is wrong with the type field and with values that are not objects', () => {
    assert.equal(
      errorOf(() => decodeMessage('build.submit', { v: 1, submitId: 's', project: 'p' })).message,
      'build.submit: field "type" is required',
    );
    for (const [value, got] of [
      [null, 'null'],
      [[submit], 'an array'],
      ['{"v":1}', 'a string'],
    ] as const) {
      assert.equal(
        errorOf(() => decodeMessage('log.chunk', value)).message,
        `log.chunk: message must be a JSON object (got ${got})`,
      );
    }
  });

  it('asks for one of the question fields of an info.query', () => {
    const query = { v: 1, type: 'info.query', queryId: 'q', replyTo: 'r' };
    assert.equal(
      errorOf(() => decodeMessage('info.query', query)).message,
      'info.query: message must have one of the fields "buildId", "project" or "list"',
    );
    assert.equal(
      errorOf(() => decodeMessage('info.query', { ...query, project: 'p', target: { dist: 'd', arch: 1 } })).message,
      'info.query: field "target.arch" must be a string',
    );
    assert.equal(
      errorOf(() => decodeMessage('info.query', { ...query, list: { limit: 5000 } })).message,
      'info.query: field "list.limit" must be <= 1000',
    );
  });
});

describe('decodeAnyMessage', () => {
  it('dispatches on the type field', () => {
    for (const type of MessageTypes) {
      for (const example of messageExamples[type]) assert.equal(decodeAnyMessage(example).type, type);
    }
  });

  it('rejects unknown and missing types, and still checks the schema of a known one', () => {
    assert.match(
      errorOf(() => decodeAnyMessage({ v: 1, type: 'build.teleport' })).message,
      /^message: field "type" is unknown: "build.teleport" \(known: build\.submit, /,
    );
    assert.equal(errorOf(() => decodeAnyMessage({ v: 1 })).message, 'message: field "type" is required');
    assert.equal(
      errorOf(() => decodeAnyMessage(undefined)).message,
      'message: message must be a JSON object (got undefined)',
    );
    assert.equal(
      errorOf(() => decodeAnyMessage({ ...request, leaseMs: '30s' })).message,
      'build.request: field "leaseMs" must be an integer',
    );
  });
});

describe('registry', () => {
  it('has one current schema per type whose v and type constants match the registry', () => {
    assert.deepEqual(Object.keys(messageSchemas).sort(), [...MessageTypes].sort());
    assert.deepEqual(Object.keys(messageVersions).sort(), [...MessageTypes].sort());
    for (const type of MessageTypes) {
      const example = messageExamples[type][0];
      assert.equal(example?.type, type);
      assert.equal(example?.v, currentVersions[type]);
    }
  });
});

describe('build states', () => {
  it('lists every state in the schema and groups them consistently', () => {
    const schemaStates = BuildEventSchema.properties.state.anyOf.map((literal) => literal.const);
    assert.deepEqual(schemaStates, [...BuildStates]);
    assert.deepEqual([...TerminalStates].sort(), [
      'cancelled',
      'failed',
      'published',
      'superseded',
      'timed-out',
      'unresolvable',
    ]);
    assert.deepEqual([...AttemptFinalStates].sort(), [
      'cancelled',
      'failed',
      'succeeded',
      'superseded',
      'timed-out',
      'unresolvable',
    ]);
    for (const state of BuildStates) {
      assert.equal(isTerminalState(state), (TerminalStates as readonly string[]).includes(state), state);
      assert.equal(isEndState(state), (EndStates as readonly string[]).includes(state), state);
      assert.equal(isAttemptFinalState(state), (AttemptFinalStates as readonly string[]).includes(state), state);
      assert.ok(!(isTerminalState(state) && (LeasedStates as readonly string[]).includes(state)), state);
    }
    assert.equal(isTerminalState('succeeded'), false);
    assert.equal(isTerminalState('heartbeat'), false);
  });

  it('accepts a build.event in every state', () => {
    for (const state of BuildStates) {
      assert.equal(decodeMessage('build.event', { ...failedEvent, state }).state, state);
    }
  });
});
