/**
 * The Bus conformance suite: every adapter must pass it. Run by
 * test/integration/bus-embedded.test.ts and test/integration/bus-kafka.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { BuildfleetError, isBuildfleetError } from '../../../shared/errors/index.ts';
import type { Bus, BusRecord, Subscription } from '../../../shared/bus/port.ts';
import { decoderFor, type Deadletter } from '../../../shared/messages/index.ts';
import { deferred, waitFor } from '../../harness/wait.ts';

export interface BusFixture {
  /** A new client of the same cluster (another service instance). */
  client(): Bus;
  /** How long a paused member must keep its membership to show it did not leave (past the session timeout). */
  pauseWindowMs: number;
}

interface Msg {
  n: number;
  key: string;
}

const decodeMsg = (value: unknown): Msg => {
  const v = value as Partial<Msg> | null;
  if (typeof v?.n !== 'number' || typeof v.key !== 'string') {
    throw new BuildfleetError('message-invalid', 'test.msg: field "n" is required');
  }
  return { n: v.n, key: v.key };
};

export function busConformance(adapter: string, setup: () => Promise<BusFixture>): void {
  describe(`Bus conformance: ${adapter}`, { timeout: 240_000 }, () => {
    const open: Bus[] = [];
    let fixture: BusFixture | undefined;
    const prefix = `conf${randomUUID().slice(0, 8)}`;

    async function client(): Promise<Bus> {
      fixture ??= await setup();
      const bus = fixture.client();
      open.push(bus);
      return bus;
    }

    async function topic(bus: Bus, partitions: number): Promise<string> {
      const name = `${prefix}.t${randomUUID().slice(0, 8)}`;
      await bus.ensureTopics([{ name, partitions, replication: 1, config: {} }]);
      return name;
    }

    async function ensureDeadletter(bus: Bus): Promise<string> {
      const name = `${bus.topicPrefix}.deadletter`;
      await bus.ensureTopics([{ name, partitions: 1, replication: 1, config: {} }]);
      return name;
    }

    after(async () => {
      await Promise.all(open.map((b) => b.close()));
    });

    it('a shared-queue group splits partitions between members and delivers each message to one of them', async () => {
      const [a, b, producer] = [await client(), await client(), await client()];
      const name = await topic(producer, 4);
      const group = `${prefix}.g${randomUUID().slice(0, 8)}`;
      const got: Array<{ member: string; record: BusRecord<Msg> }> = [];
      const member = (bus: Bus, id: string): Promise<Subscription> =>
        bus.consume({
          topics: [name],
          group,
          decode: decodeMsg,
          handle: async (record) => {
            got.push({ member: id, record });
          },
        });
      const [sa, sb] = [await member(a, 'a'), await member(b, 'b')];
      await waitFor(
        () =>
          sa.assignment().length + sb.assignment().length === 4 &&
          sa.assignment().length > 0 &&
          sb.assignment().length > 0,
        'both members to share the 4 partitions',
        60_000,
      );
      const owned = [...sa.assignment(), ...sb.assignment()].map((tp) => tp.partition).sort();
      assert.deepEqual(owned, [0, 1, 2, 3], 'every partition has exactly one owner');

      await producer.publish(
        name,
        Array.from({ length: 40 }, (_, n) => ({ key: `k${n}`, value: { n, key: `k${n}` } })),
      );
      await waitFor(() => got.length >= 40, '40 deliveries');
      const keys = got.map((g) => g.record.value.key).sort();
      assert.deepEqual(keys, Array.from({ length: 40 }, (_, n) => `k${n}`).sort(), 'each message exactly once');
      assert.ok(got.some((g) => g.member === 'a') && got.some((g) => g.member === 'b'), 'both members got work');
      for (const g of got) {
        const sub = g.member === 'a' ? sa : sb;
        assert.ok(
          sub.assignment().some((tp) => tp.partition === g.record.partition),
          'delivered from an owned partition',
        );
      }
    });

    it('readAll returns every record up to the end, endOffsets and groupMembers tell the state of a topic', async () => {
      const [producer, reader, member] = [await client(), await client(), await client()];
      const name = await topic(producer, 3);
      assert.deepEqual((await reader.readAll(name, decodeMsg)).records, [], 'an empty topic reads as empty');
      await producer.publish(
        name,
        Array.from({ length: 30 }, (_, n) => ({ key: `k${n % 7}`, value: { n, key: `k${n % 7}` } })),
      );
      await producer.publish(name, { key: 'bad', value: { not: 'a msg' } });
      const { records, skipped } = await reader.readAll(name, decodeMsg);
      assert.equal(skipped, 1, 'the record the decoder rejects is skipped and counted');
      assert.deepEqual(
        records.map((r) => r.value.n).sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, n) => n),
      );
      for (const key of ['k0', 'k3']) {
        const ns = records.filter((r) => r.key === key).map((r) => r.value.n);
        assert.deepEqual(
          ns,
          [...ns].sort((a, b) => a - b),
          `order per key ${key}`,
        );
      }
      const ends = await reader.endOffsets(name);
      assert.equal(ends.size, 3);
      assert.equal(
        [...ends.values()].reduce((sum, end) => sum + Number(end), 0),
        31,
        'end offsets add up to the records published',
      );

      const group = `${prefix}.members${randomUUID().slice(0, 8)}`;
      assert.equal(await reader.groupMembers(group), 0, 'an unknown group has no members');
      const sub = await member.consume({ topics: [name], group, decode: decodeMsg, handle: async () => {} });
      await sub.ready;
      await waitFor(async () => (await reader.groupMembers(group)) === 1, 'the member to be seen', 30_000);
      await sub.close();
      await waitFor(async () => (await reader.groupMembers(group)) === 0, 'the group to be empty', 30_000);
    });

    it('two groups and two subscribers each receive every message', async () => {
      const [a, b, c, d, producer] = [await client(), await client(), await client(), await client(), await client()];
      const name = await topic(producer, 2);
      const seen = new Map<string, number[]>([
        ['g1', []],
        ['g2', []],
        ['s1', []],
        ['s2', []],
      ]);
      const handler = (id: string) => async (record: BusRecord<Msg>) => {
        seen.get(id)?.push(record.value.n);
      };
      const subs = [
        await a.consume({ topics: [name], group: `${prefix}.one`, decode: decodeMsg, handle: handler('g1') }),
        await b.consume({ topics: [name], group: `${prefix}.two`, decode: decodeMsg, handle: handler('g2') }),
        await c.subscribe({ topics: [name], name: 'watcher', decode: decodeMsg, handle: handler('s1') }),
        await d.subscribe({ topics: [name], name: 'watcher', decode: decodeMsg, handle: handler('s2') }),
      ];
      await Promise.all(subs.map((s) => s.ready));
      await producer.publish(
        name,
        Array.from({ length: 20 }, (_, n) => ({ key: `k${n % 5}`, value: { n, key: `k${n % 5}` } })),
      );
      await waitFor(() => [...seen.values()].every((list) => list.length >= 20), 'every group to get 20 messages');
      for (const [id, list] of seen) {
        assert.deepEqual(
          [...list].sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, n) => n),
          `${id} got all once`,
        );
      }
    });

    it('keeps the order of messages with the same key', async () => {
      const [consumer, producer] = [await client(), await client()];
      const name = await topic(producer, 3);
      const byKey = new Map<string, number[]>();
      const sub = await consumer.consume({
        topics: [name],
        group: `${prefix}.order`,
        decode: decodeMsg,
        handle: async (record) => {
          const list = byKey.get(record.value.key) ?? [];
          list.push(record.value.n);
          byKey.set(record.value.key, list);
        },
      });
      await sub.ready;
      for (let n = 0; n < 90; n++) {
        const key = `key-${n % 3}`;
        await producer.publish(name, { key, value: { n, key } });
      }
      await waitFor(() => [...byKey.values()].reduce((s, l) => s + l.length, 0) >= 90, '90 deliveries');
      for (const [key, list] of byKey) {
        assert.equal(list.length, 30, `${key} count`);
        assert.deepEqual(
          list,
          [...list].sort((x, y) => x - y),
          `${key} in order`,
        );
      }
    });

    it('pause stops delivery without leaving the group, resume restarts it', async () => {
      const [consumer, producer] = [await client(), await client()];
      const name = await topic(producer, 1);
      const got: number[] = [];
      const sub = await consumer.consume({
        topics: [name],
        group: `${prefix}.pause`,
        decode: decodeMsg,
        handle: async (record) => {
          got.push(record.value.n);
        },
      });
      await sub.ready;
      await producer.publish(name, { key: 'a', value: { n: 0, key: 'a' } });
      await waitFor(() => got.length === 1, 'first message');
      const { memberId, joins } = sub;

      sub.pause();
      assert.equal(sub.paused, true);
      await producer.publish(
        name,
        [1, 2, 3].map((n) => ({ key: 'a', value: { n, key: 'a' } })),
      );
      // Observation window: nothing may arrive, and the membership must outlive the session timeout.
      const window = fixture?.pauseWindowMs ?? 1000;
      const deadline = Date.now() + window;
      await waitFor(() => got.length > 1 || Date.now() > deadline, 'the pause window', window + 5000, 100);
      assert.deepEqual(got, [0], 'nothing delivered while paused');
      assert.equal(sub.memberId, memberId, 'same member');
      assert.equal(sub.joins, joins, 'no rejoin while paused');

      sub.resume();
      await waitFor(() => got.length === 4, 'the held messages after resume');
      assert.deepEqual(got, [0, 1, 2, 3]);
      assert.equal(sub.memberId, memberId, 'same member after resume');
    });

    it('request/reply round trip, error reply and timeout', async () => {
      const [server, caller] = [await client(), await client()];
      const requests = await topic(server, 2);
      const replies = await topic(server, 2);
      const serving = await server.serve({
        topic: requests,
        group: `${prefix}.serve`,
        decode: decodeMsg,
        handle: async (record) => {
          if (record.value.n < 0) throw new BuildfleetError('storage-not-found', 'no such thing');
          return { answer: record.value.n * 2 };
        },
      });
      await serving.ready;
      const decodeAnswer = (v: unknown): number => (v as { answer: number }).answer;
      const answers = await Promise.all(
        [1, 2, 3].map((n) =>
          caller.request({
            topic: requests,
            replyTopic: replies,
            key: `q${n}`,
            value: { n, key: `q${n}` },
            decode: decodeAnswer,
            timeoutMs: 20_000,
          }),
        ),
      );
      assert.deepEqual(answers, [2, 4, 6]);

      await assert.rejects(
        caller.request({
          topic: requests,
          replyTopic: replies,
          key: 'neg',
          value: { n: -1, key: 'neg' },
          decode: decodeAnswer,
          timeoutMs: 20_000,
        }),
        (e: unknown) => isBuildfleetError(e, 'storage-not-found') && e.message === 'no such thing',
      );

      const unserved = await topic(server, 1);
      const started = Date.now();
      await assert.rejects(
        caller.request({
          topic: unserved,
          replyTopic: replies,
          key: 'x',
          value: { n: 1, key: 'x' },
          decode: decodeAnswer,
          timeoutMs: 300,
        }),
        (e: unknown) => isBuildfleetError(e, 'bus-timeout'),
      );
      assert.ok(Date.now() - started < 5000, 'the timeout is kept');
    });

    it('sends invalid messages to the dead-letter topic with the reason and goes on', async () => {
      const [consumer, producer, watcher] = [await client(), await client(), await client()];
      const name = await topic(producer, 1);
      const deadletter = await ensureDeadletter(producer);
      const group = `${prefix}.dl${randomUUID().slice(0, 6)}`;
      const letters: Deadletter[] = [];
      const watch = await watcher.subscribe<Deadletter>({
        topics: [deadletter],
        name: 'dl-watch',
        // Dead letters are themselves valid messages of their schema.
        decode: decoderFor('deadletter'),
        handle: async (record) => {
          if (record.value.group === group) letters.push(record.value);
        },
      });
      await watch.ready;
      const got: number[] = [];
      const sub = await consumer.consume({
        topics: [name],
        group,
        decode: decodeMsg,
        handle: async (record) => {
          got.push(record.value.n);
        },
      });
      await sub.ready;
      await producer.publish(name, [
        { key: 'a', value: Buffer.from('{not json') },
        { key: 'a', value: { wrong: true } },
        { key: 'a', value: { n: 7, key: 'a' } },
      ]);
      await waitFor(() => got.length === 1 && letters.length === 2, 'one delivery and two dead letters');
      assert.deepEqual(got, [7]);
      const [first, second] = letters;
      assert.equal(first?.sourceTopic, name);
      assert.equal(first?.partition, 0);
      assert.equal(first?.offset, '0');
      assert.equal(first?.key, 'a');
      assert.equal(first?.payload, '{not json');
      assert.match(first?.reason ?? '', /not valid JSON/);
      assert.equal(second?.offset, '1');
      assert.match(second?.reason ?? '', /field "n" is required/);
      assert.equal(second?.payload, '{"wrong":true}');
    });

    it('close commits what was handled and a new member picks up the rest', async () => {
      const [first, second, producer] = [await client(), await client(), await client()];
      const name = await topic(producer, 1);
      const group = `${prefix}.close`;
      const handledByFirst: number[] = [];
      const blocked = deferred();
      const sub = await first.consume({
        topics: [name],
        group,
        decode: decodeMsg,
        handle: async (record, signal) => {
          if (record.value.n === 5) {
            // In-flight work that is handed back on close.
            blocked.resolve();
            await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('closed'))));
          }
          handledByFirst.push(record.value.n);
        },
      });
      await sub.ready;
      await producer.publish(
        name,
        Array.from({ length: 10 }, (_, n) => ({ key: 'a', value: { n, key: 'a' } })),
      );
      await blocked.promise;
      await sub.close();
      assert.deepEqual(handledByFirst, [0, 1, 2, 3, 4]);

      const handledBySecond: number[] = [];
      const next = await second.consume({
        topics: [name],
        group,
        decode: decodeMsg,
        handle: async (record) => {
          handledBySecond.push(record.value.n);
        },
      });
      await next.ready;
      await waitFor(() => handledBySecond.length >= 5, 'the unhandled five');
      assert.deepEqual(handledBySecond, [5, 6, 7, 8, 9], 'nothing lost, nothing handled twice');
    });

    it('ensureTopics creates, reports unchanged, and applies changes', async () => {
      const bus = await client();
      const name = `${prefix}.ensure${randomUUID().slice(0, 6)}`;
      const spec = { name, partitions: 2, replication: 1, config: { 'retention.ms': '3600000' } };
      assert.deepEqual((await bus.ensureTopics([spec])).created, [name]);
      const again = await bus.ensureTopics([spec]);
      assert.deepEqual(again.created, []);
      assert.deepEqual(again.unchanged, [name]);
      const changed = await bus.ensureTopics([{ ...spec, partitions: 3, config: { 'retention.ms': '7200000' } }]);
      assert.deepEqual(
        changed.changed.map((c) => c.change),
        ['partitions 2 -> 3', 'retention.ms 3600000 -> 7200000'],
      );
      assert.deepEqual(
        (await bus.ensureTopics([{ ...spec, partitions: 3, config: { 'retention.ms': '7200000' } }])).unchanged,
        [name],
      );
    });

    it('publishing to a topic that does not exist fails with topic-missing', async () => {
      const bus = await client();
      await assert.rejects(
        bus.publish(`${prefix}.missing${randomUUID().slice(0, 6)}`, { key: null, value: { n: 1 } }),
        (e: unknown) => isBuildfleetError(e, 'topic-missing'),
      );
    });
  });
}
