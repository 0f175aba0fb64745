/** The message constructors beside the schemas, and the topic and key of each message type from the registry. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildEvent,
  buildRequest,
  buildSubmit,
  consumerGroupNames,
  controlCancel,
  decodeMessage,
  identityOf,
  logChunk,
  messageRoutes,
  routeOf,
  topicNames,
  type AnyMessage,
  type MessageType,
} from '../../shared/messages/index.ts';

const at = '2026-01-02T03:04:05.678Z';
const commit = 'a'.repeat(40);
const target = { dist: 'bookworm', arch: 'x86_64' };
const identity = {
  buildId: 'b-1',
  attempt: 2,
  buildKey: 'projects/demo/hello@bookworm.x86_64',
  project: 'projects/demo/hello',
  target,
  repoKey: 'projects/demo/bookworm',
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('message constructors', () => {
  it('buildEvent fills v, type and at; the result decodes', () => {
    const before = Date.now();
    const event = buildEvent({ ...identity, state: 'queued', source: { service: 'scheduler', instance: 's-1' } });
    assert.equal(event.v, 1);
    assert.equal(event.type, 'build.event');
    assert.match(event.at, ISO);
    assert.ok(Date.parse(event.at) >= before - 1);
    assert.equal(decodeMessage('build.event', event), event);
  });

  it('leaves out optional fields given as undefined, and keeps a given at', () => {
    const event = buildEvent({
      ...identity,
      state: 'failed',
      at,
      source: { service: 'collector', instance: 'c-1' },
      submitId: undefined,
      commit,
      error: { code: 'internal', message: 'boom' },
      reason: undefined,
    });
    assert.deepEqual(Object.keys(event).sort(), [
      'at',
      'attempt',
      'buildId',
      'buildKey',
      'commit',
      'error',
      'project',
      'repoKey',
      'source',
      'state',
      'target',
      'type',
      'v',
    ]);
    assert.equal(event.at, at);
    decodeMessage('build.event', event);
  });

  it('identityOf keeps only the fields that name the build', () => {
    const tracked = { ...identity, kind: 'noop', phase: 'queued', leaseMs: 5 };
    assert.deepEqual(identityOf(tracked), identity);
  });

  it('buildSubmit, controlCancel, buildRequest and logChunk make messages the registry accepts', () => {
    const submit = buildSubmit({ submitId: 's-1', project: 'projects/demo/hello', reason: 'manual', ref: undefined });
    assert.deepEqual(Object.keys(submit).sort(), ['at', 'project', 'reason', 'submitId', 'type', 'v']);
    decodeMessage('build.submit', submit);

    const cancel = controlCancel({ buildId: 'b-1', reason: 'cancelled by alice', at });
    assert.deepEqual(cancel, { v: 1, type: 'control.cancel', buildId: 'b-1', reason: 'cancelled by alice', at });
    decodeMessage('control.cancel', cancel);

    const request = buildRequest({
      buildId: 'b-1',
      attempt: 1,
      buildKey: identity.buildKey,
      project: identity.project,
      kind: 'noop',
      target,
      runnerGroup: 'arm',
      source: { url: 'file:///srv/sources', commit },
      submitId: 's-1',
      leaseMs: 30_000,
      rebuild: undefined,
    });
    assert.equal('rebuild' in request, false);
    assert.match(request.at ?? '', ISO);
    decodeMessage('build.request', request);

    const chunk = logChunk({ buildId: 'b-1', attempt: 1, seq: 0, lines: ['hello'], final: undefined });
    assert.equal('final' in chunk, false);
    decodeMessage('log.chunk', chunk);
  });

  it('a constructed message with a bad field is still refused by decodeMessage', () => {
    assert.throws(
      () => decodeMessage('build.submit', buildSubmit({ submitId: 's-1', project: '' })),
      /build\.submit: field "project" must not be empty/,
    );
  });
});

describe('message routes', () => {
  const names = topicNames('acme');

  it('give every message type a topic and a key', () => {
    const messages: AnyMessage[] = [
      buildSubmit({ submitId: 's-1', project: 'projects/demo/hello' }),
      buildRequest({
        ...identity,
        kind: 'noop',
        runnerGroup: 'arm',
        target: { dist: 'bookworm', arch: 'aarch64' },
        source: { url: 'u', commit },
        submitId: 's-1',
        leaseMs: 1,
      }),
      buildEvent({ ...identity, state: 'building', source: { service: 'runner', instance: 'r-1' } }),
      { v: 1, type: 'info.query', queryId: 'q-1', replyTo: 'cli-7', buildId: 'b-1' },
      { v: 1, type: 'info.answer', queryId: 'q-1', replyTo: 'cli-7', at, builds: [] },
      controlCancel({ buildId: 'b-1', reason: 'r' }),
      logChunk({ buildId: 'b-1', attempt: 1, seq: 3, lines: [] }),
      {
        v: 1,
        type: 'deadletter',
        reason: 'bad',
        sourceTopic: 'acme.events',
        partition: 0,
        offset: '4',
        key: null,
        payload: '{}',
        group: 'acme.collector',
        at,
      },
    ];
    const routes = messages.map((message) => {
      decodeMessage(message.type, message);
      const { topic, record } = routeOf(names, message);
      assert.equal(record.value, message);
      return [message.type, topic, record.key];
    });
    assert.deepEqual(routes, [
      ['build.submit', 'acme.submit', 'projects/demo/hello'],
      ['build.request', 'acme.requests.arm.aarch64', identity.buildKey],
      ['build.event', 'acme.events', 'projects/demo/bookworm'],
      ['info.query', 'acme.info.requests', 'q-1'],
      ['info.answer', 'acme.info.responses', 'cli-7'],
      ['control.cancel', 'acme.control', 'b-1'],
      ['log.chunk', 'acme.logs', 'b-1'],
      ['deadletter', 'acme.deadletter', 'acme.events'],
    ]);
    assert.deepEqual(Object.keys(messageRoutes).sort(), routes.map(([type]) => type as MessageType).sort());
  });
});

describe('consumer group names of every reader', () => {
  it('are the names the services have always used (committed offsets live under them)', () => {
    const groups = consumerGroupNames('acme');
    assert.equal(groups.scheduler, 'acme.scheduler');
    assert.equal(groups.schedulerEvents, 'acme.scheduler.events');
    assert.equal(groups.schedulerControl, 'acme.scheduler.control');
    assert.equal(groups.collector, 'acme.collector');
    assert.equal(groups.info, 'acme.info');
    assert.equal(groups.runnerControl('arm', 'host-1.42'), 'acme.runner.arm.control.host-1.42');
    assert.equal(groups.infoEvents('i-1'), 'acme.info-service.i-1');
    assert.equal(groups.infoLogs('i-1'), 'acme.info-service.logs.i-1');
    assert.equal(groups.cli('watch'), 'acme.cli.watch');
    assert.equal(groups.readAll, 'acme.read-all');
    assert.equal(topicNames('acme').deadletter, 'acme.deadletter');
  });
});
