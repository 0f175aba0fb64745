import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignPartitions } from '../../shared/bus/assignment.ts';
import { decodeValue, payloadText } from '../../shared/bus/codec.ts';
import { plannedTopics, TopicsConfig } from '../../shared/bus/topic-plan.ts';
import { planTopicChange } from '../../shared/bus/topic-spec.ts';
import { Value } from '@sinclair/typebox/value';

describe('assignPartitions', () => {
  it('gives every partition exactly one owner and spreads them evenly', () => {
    const result = assignPartitions(
      [
        { id: 'b', topics: ['t'] },
        { id: 'a', topics: ['t'] },
        { id: 'c', topics: ['t'] },
      ],
      new Map([['t', 8]]),
    );
    const all = [...result.values()]
      .flat()
      .map((tp) => tp.partition)
      .sort((x, y) => x - y);
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7]);
    const sizes = [...result.values()].map((l) => l.length).sort();
    assert.deepEqual(sizes, [2, 3, 3]);
  });

  it('only gives a member partitions of topics it subscribes to', () => {
    const result = assignPartitions(
      [
        { id: 'a', topics: ['x'] },
        { id: 'b', topics: ['x', 'y'] },
      ],
      new Map([
        ['x', 2],
        ['y', 2],
      ]),
    );
    assert.ok(result.get('a')?.every((tp) => tp.topic === 'x'));
    assert.deepEqual(
      result
        .get('b')
        ?.filter((tp) => tp.topic === 'y')
        .map((tp) => tp.partition),
      [0, 1],
    );
  });

  it('leaves a member without partitions when there are more members than partitions', () => {
    const result = assignPartitions(
      [
        { id: 'a', topics: ['t'] },
        { id: 'b', topics: ['t'] },
      ],
      new Map([['t', 1]]),
    );
    assert.equal([...result.values()].flat().length, 1);
  });
});

describe('planTopicChange', () => {
  const spec = { name: 't', partitions: 4, replication: 3, config: { 'retention.ms': '100' } };
  it('adds partitions and changes config', () => {
    const plan = planTopicChange(spec, { partitions: 2, replication: 3, config: { 'retention.ms': '50' } });
    assert.equal(plan.addPartitions, 4);
    assert.deepEqual(plan.setConfig, { 'retention.ms': '100' });
    assert.deepEqual(
      plan.changes.map((c) => c.change),
      ['partitions 2 -> 4', 'retention.ms 50 -> 100'],
    );
  });
  it('warns instead of shrinking or re-replicating', () => {
    const plan = planTopicChange(spec, { partitions: 6, replication: 1, config: { 'retention.ms': '100' } });
    assert.equal(plan.addPartitions, null);
    assert.equal(plan.changes.length, 0);
    assert.equal(plan.warnings.length, 2);
  });
});

describe('plannedTopics', () => {
  const config = Value.Default(TopicsConfig, {}) as TopicsConfig;
  it('covers every topic of the design with a request topic per runner group and arch', () => {
    const topics = plannedTopics('bf', {
      ...config,
      runnerGroups: [
        { name: 'default', arches: ['x86_64', 'aarch64'], partitions: 4 },
        { name: 'arm', arches: ['aarch64'], partitions: 2 },
      ],
    });
    assert.deepEqual(topics.map((t) => t.name).sort(), [
      'bf.control',
      'bf.deadletter',
      'bf.events',
      'bf.info.requests',
      'bf.info.responses',
      'bf.logs',
      'bf.requests.arm.aarch64',
      'bf.requests.default.aarch64',
      'bf.requests.default.x86_64',
      'bf.state',
      'bf.submit',
    ]);
    assert.equal(topics.find((t) => t.name === 'bf.requests.arm.aarch64')?.partitions, 2);
    assert.equal(topics.find((t) => t.name === 'bf.state')?.config['cleanup.policy'], 'compact');
    assert.equal(topics.find((t) => t.name === 'bf.events')?.config['retention.ms'], String(30 * 24 * 3_600_000));
  });
  it('asks for min.insync.replicas with replication 3', () => {
    const topics = plannedTopics('bf', { ...config, replication: 3 });
    assert.ok(topics.every((t) => t.replication === 3 && t.config['min.insync.replicas'] === '2'));
  });
});

describe('codec', () => {
  it('reports bad JSON and decoder failures without throwing', () => {
    assert.deepEqual(
      decodeValue(Buffer.from('{"a":1}'), (v) => v),
      { ok: true, value: { a: 1 } },
    );
    const bad = decodeValue(Buffer.from('{'), (v) => v);
    assert.equal(bad.ok, false);
    const rejected = decodeValue(Buffer.from('{}'), () => {
      throw new Error('field "x" is required');
    });
    assert.deepEqual(rejected, { ok: false, reason: 'field "x" is required' });
    assert.equal(decodeValue(null, (v) => v).ok, false);
  });
  it('keeps UTF-8 payloads as text and others as base64', () => {
    assert.deepEqual(payloadText(Buffer.from('héllo')), { payload: 'héllo' });
    assert.deepEqual(payloadText(Buffer.from([0xff, 0xfe])), { payload: '//4=', payloadEncoding: 'base64' });
  });
});
