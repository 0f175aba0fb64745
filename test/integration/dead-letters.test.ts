/**
 * Bad input loses nothing and stops nothing: a malformed message on every topic a service
 * consumes (submit, events, control, a request queue, info requests) lands in the dead-letter
 * topic with its reason and the group that refused it, and the whole cluster (scheduler,
 * runner, collector, info service on real Kafka) goes on building and answering.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consumerGroupNames, type BuildRecord } from '../../shared/messages/index.ts';
import { useKafka } from '../harness/kafka.ts';
import { submitOne, useNoopCluster } from '../harness/noop-cluster-hooks.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();

describe('malformed messages on every consumed topic', { timeout: 300_000 }, () => {
  const cluster = useNoopCluster(
    {
      brokers,
      infoService: true,
      files: { 'projects/d/ok/buildfleet.yml': 'kind: noop\ntargets: [{ dist: bookworm, arch: x86_64 }]\n' },
    },
    async () => {
      await cluster.startRunner({ id: 'runner-d', slots: 1 });
    },
  );

  it('go to the dead-letter topic with reason and group, and every service keeps working', async () => {
    const { topics, bus, prefix } = cluster;
    const groups = consumerGroupNames(prefix);
    const requests = topics.requests('default', 'x86_64');
    await bus.publish(topics.submit, { key: 'x', value: Buffer.from('{not json') });
    await bus.publish(topics.submit, { key: 'x', value: { v: 1, type: 'build.submit', project: 'projects/d/ok' } });
    await bus.publish(topics.submit, {
      key: 'x',
      value: { v: 1, type: 'build.submit', submitId: 'bad-path', project: '../etc/passwd' },
    });
    await bus.publish(topics.events, { key: 'x', value: { v: 1, type: 'build.event', buildId: 'b' } });
    await bus.publish(topics.control, { key: 'x', value: { v: 1, type: 'control.cancel' } });
    await bus.publish(requests, { key: 'x', value: { v: 1, type: 'build.request', buildId: 'b' } });
    await bus.publish(topics.infoRequests, { key: 'x', value: { v: 9, type: 'info.query' } });

    const refused = (topic: string, group: string | RegExp) =>
      cluster.deadletters.some(
        (d) => d.sourceTopic === topic && (typeof group === 'string' ? d.group === group : group.test(d.group ?? '')),
      );
    const expected: Array<[string, string | RegExp]> = [
      [topics.submit, groups.scheduler],
      [topics.events, `${prefix}.scheduler.events`],
      [topics.events, `${prefix}.collector`],
      [topics.events, /\.info-service\./],
      [topics.control, `${prefix}.scheduler.control`],
      [topics.control, /\.runner\.default\.control\./],
      [requests, groups.runner('default', 'x86_64')],
      [topics.infoRequests, groups.info],
    ];
    await waitFor(
      () => expected.every(([topic, group]) => refused(topic, group)),
      'a dead letter from every consumer',
      60_000,
      100,
    ).catch((error: unknown) => {
      const missing = expected.filter(([topic, group]) => !refused(topic, group));
      throw new Error(
        `${String(error)}\nmissing: ${JSON.stringify(missing.map(([t, g]) => `${t} / ${String(g)}`))}\n` +
          `got: ${JSON.stringify(cluster.deadletters.map((d) => [d.sourceTopic, d.group, d.reason]))}`,
      );
    });
    const reasons = cluster.deadletters.filter((d) => d.sourceTopic === topics.submit).map((d) => d.reason);
    assert.ok(
      reasons.some((r) => /JSON/.test(r)),
      reasons.join('\n'),
    );
    assert.ok(
      reasons.some((r) => /submitId/.test(r)),
      reasons.join('\n'),
    );
    // Refused by the schema when read, naming the field: not handed to the scheduler to fail later.
    assert.ok(
      reasons.some((r) => r.startsWith('build.submit: field "project" must be a relative path')),
      reasons.join('\n'),
    );

    // Everything still works: a good submission is built, published and answered by the API.
    const { id } = await submitOne(cluster, 'projects/d/ok', 'the good submission');
    const end = await cluster.reached(id, ['published', 'failed']);
    assert.equal(end.state, 'published', JSON.stringify(end.error));
    await waitFor(
      async () => {
        const answer = await fetch(`${cluster.apiUrl}/api/builds/${id}`);
        return answer.ok && ((await answer.json()) as BuildRecord).state === 'published';
      },
      'the API to show the build published',
      30_000,
      200,
    );
  });
});
