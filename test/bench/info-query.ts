/**
 * Info service at size: with N builds in its view (default 100,000), read from real build
 * events on Kafka (submitted, building, published with an artifact each: 3 events per build),
 * the p50/p99 of an info.query round trip over Kafka (bus.request from another client) and of
 * `GET /api/builds/:id`, and the memory of the service at that size. Baselines measured in the
 * same run: a plain Kafka produce -> consume round trip, and `GET /healthz` of the same server.
 * Memory: heap used and RSS of this process after a GC, before the service exists and once
 * its view has caught up (the difference is the service's).
 *
 *   node --expose-gc --import tsx test/bench/info-query.ts [--builds 100000] [--queries 1000]
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createInfoService } from '../../info-service/info-service.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import type { OutgoingMessage } from '../../shared/bus/index.ts';
import { createHttpAuth, createTokenSource } from '../../shared/http/index.ts';
import {
  buildKeyOf,
  decoderFor,
  repoKeyOf,
  topicNames,
  type BuildEvent,
  type BuildRecord,
  type InfoQuery,
} from '../../shared/messages/index.ts';
import { createFsArtifactStore } from '../../shared/storage/index.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { testGitRepos } from '../harness/git.ts';
import { startTestBroker } from '../harness/kafka.ts';
import { waitFor } from '../harness/wait.ts';
import { benchOptions, kafkaRoundTrips, ms, percentile, printTable } from './bench-kit.ts';

const options = benchOptions({ builds: '100000', queries: '1000' });
const [builds, queries] = options.positive('builds', 'queries');
const logger = pino({ level: 'silent' });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.log('note: run with node --expose-gc for stable memory numbers');

function memory(): { heap: number; rss: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function eventsOf(i: number, prefix: string): BuildEvent[] {
  const project = `projects/p${i % 1000}/pkg${i}`;
  const target = { dist: 'bookworm', arch: i % 2 === 0 ? 'x86_64' : 'aarch64' };
  const base = {
    v: 1 as const,
    type: 'build.event' as const,
    buildId: `${prefix}-${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
    attempt: 1,
    buildKey: buildKeyOf(project, target),
    project,
    target,
    repoKey: repoKeyOf(project, target.dist),
    commit: 'a'.repeat(40),
  };
  const at = (s: number) => new Date(Date.UTC(2026, 10, 1) + i * 1000 + s * 100).toISOString();
  return [
    { ...base, state: 'submitted', at: at(0), source: { service: 'scheduler', instance: 's' }, submitId: `s-${i}` },
    { ...base, state: 'building', at: at(1), source: { service: 'runner', instance: 'r' }, runnerId: 'r' },
    {
      ...base,
      state: 'published',
      at: at(2),
      source: { service: 'collector', instance: 'c' },
      artifacts: [
        {
          name: `pkg${i}_1.0_amd64.deb`,
          kind: 'deb',
          size: 2048,
          sha256: 'b'.repeat(64),
          key: `artifacts/${base.buildId}/pkg${i}_1.0_amd64.deb`,
        },
      ],
    },
  ] as BuildEvent[];
}

const broker = await startTestBroker();
const repos = await testGitRepos('buildfleet-bench-info-');
try {
  const prefix = `iq${randomUUID().slice(0, 6)}`;
  const topics = topicNames(prefix);
  const newBus = (clientId: string) =>
    createKafkaBus({ brokers: broker.brokers, clientId, topicPrefix: prefix, logger });
  const producer = newBus('bench-producer');
  await producer.ensureTopics(testTopics(prefix));
  const idPrefix = randomUUID().slice(0, 8);

  let started = performance.now();
  const batch: OutgoingMessage[] = [];
  for (let i = 0; i < builds; i++) {
    for (const event of eventsOf(i, idPrefix)) batch.push({ key: event.buildKey, value: event });
    if (batch.length >= 900 || i === builds - 1) {
      await producer.publish(topics.events, batch.splice(0));
    }
  }
  const produceMs = performance.now() - started;
  console.log(`produced ${builds * 3} events of ${builds} builds in ${ms(produceMs)}`);

  const store = await createFsArtifactStore({ root: await repos.tempDir('store') });
  const before = memory();
  started = performance.now();
  const infoBus = newBus('bench-info');
  const info = createInfoService({
    bus: infoBus,
    store,
    logger,
    instanceId: 'bench',
    publicUrl: 'http://127.0.0.1:1/repos',
    serveRepos: false,
    catchUpQuietMs: 3000,
  });
  await info.start();
  await waitFor(() => info.view.size >= builds, `the view to hold ${builds} builds`, 600_000, 100);
  const catchUpMs = performance.now() - started;
  const after = memory();
  const auth = createHttpAuth({ anonymous: 'read', tokens: createTokenSource({}) });
  const server = await info.listen({ host: '127.0.0.1', port: 0, logger, auth });
  console.log(`info service caught up with ${info.view.size} builds in ${ms(catchUpMs)}`);

  const client = newBus('bench-client');
  const ids = Array.from({ length: queries }, (_, n) => eventsOf((n * 7919) % builds, idPrefix)[0]?.buildId ?? '');
  const ask = async (buildId: string): Promise<BuildRecord[]> => {
    const query: InfoQuery = { v: 1, type: 'info.query', queryId: randomUUID(), replyTo: client.instanceId, buildId };
    const answer = await client.request({
      topic: topics.infoRequests,
      replyTopic: topics.infoResponses,
      key: query.queryId,
      value: query,
      decode: decoderFor('info.answer'),
      timeoutMs: 10_000,
    });
    return answer.builds;
  };
  await ask(ids[0] ?? ''); // warm-up: the reply subscription joins its group
  const kafkaTimes: number[] = [];
  for (const id of ids) {
    const t = performance.now();
    const [record] = await ask(id);
    kafkaTimes.push(performance.now() - t);
    if (record?.state !== 'published') throw new Error(`info.query for ${id}: ${JSON.stringify(record)}`);
  }
  const baselineKafka = await kafkaRoundTrips({
    producer: client,
    consumer: newBus('bench-baseline'),
    topic: topics.control,
    count: Math.min(queries, 300),
    intervalMs: 0,
  });

  const httpTimes: number[] = [];
  const healthTimes: number[] = [];
  for (const id of ids) {
    let t = performance.now();
    const answer = await fetch(`${server.url}/api/builds/${id}`);
    const record = (await answer.json()) as BuildRecord;
    httpTimes.push(performance.now() - t);
    if (record.state !== 'published') throw new Error(`GET /api/builds/${id}: ${JSON.stringify(record)}`);
    t = performance.now();
    await (await fetch(`${server.url}/healthz`)).text();
    healthTimes.push(performance.now() - t);
  }

  console.log(`\ninfo queries with ${info.view.size} builds in the view (${queries} queries each, sequential)`);
  const row = (what: string, times: number[], base: number[]) => [
    what,
    ms(percentile(times, 50)),
    ms(percentile(times, 99)),
    ms(percentile(base, 50)),
    (percentile(times, 50) / percentile(base, 50)).toFixed(2),
  ];
  printTable(
    ['round trip', 'p50', 'p99', 'baseline p50', 'p50 / baseline'],
    [
      row('info.query over Kafka (baseline: produce -> consume)', kafkaTimes, baselineKafka),
      row('GET /api/builds/:id (baseline: GET /healthz)', httpTimes, healthTimes),
    ],
  );
  console.log(`\nmemory of the info service with ${info.view.size} builds (this process, after GC)`);
  printTable(
    ['', 'heap used', 'RSS'],
    [
      ['before the service', mib(before.heap), mib(before.rss)],
      ['view caught up', mib(after.heap), mib(after.rss)],
      ['difference', mib(after.heap - before.heap), mib(after.rss - before.rss)],
    ],
  );
  await server.close();
  await info.stop();
  await Promise.all([producer.close(), infoBus.close(), client.close()]);
} finally {
  await repos.cleanup();
  await broker.cleanup();
}
