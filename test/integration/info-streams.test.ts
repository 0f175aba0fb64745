/**
 * The info service's long-lived responses over real sockets (embedded bus, filesystem store):
 * event streams and followed logs count against one cap per client address and one in total
 * (429 `too-many-streams` beyond, a closed stream frees its place), and a client that stops
 * reading a followed log is destroyed after `slowReaderMs`, not left holding the socket.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createInfoService, type InfoService } from '../../info-service/info-service.ts';
import type { InfoHttpServer } from '../../info-service/http/server.ts';
import { EmbeddedBroker } from '../../shared/bus/embedded/broker.ts';
import { createEmbeddedBus } from '../../shared/bus/embedded/bus.ts';
import { createHttpAuth, createTokenSource } from '../../shared/http/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { logChunk, routeOf, topicNames } from '../../shared/messages/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { waitFor } from '../harness/wait.ts';

const logger = createLogger({ name: 'info-streams-test', level: 'silent' });
const SLOW_READER_MS = 400;

describe('info service streams: caps and slow readers (real sockets)', { timeout: 60_000 }, () => {
  const broker = new EmbeddedBroker();
  const prefix = `streams${randomUUID().slice(0, 8)}`;
  const topics = topicNames(prefix);
  const bus = createEmbeddedBus({ broker, topicPrefix: prefix, logger });
  const buildId = randomUUID();
  let dir: string;
  let store: ArtifactStore;
  let service: InfoService;
  let server: InfoHttpServer;
  let port: number;
  let seq = 0;

  const sendLog = async (lines: string[]): Promise<void> => {
    const { topic, record } = routeOf(topics, logChunk({ buildId, attempt: 1, seq: seq++, lines }));
    await bus.publish(topic, record);
  };

  /** Opens a stream from `localAddress`; resolves with the response once its head arrived. */
  function open(path: string, localAddress: string): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) =>
        resolve({ req, res }),
      );
      req.on('error', reject);
      req.end();
    });
  }

  async function refused(path: string, localAddress: string, limit: string): Promise<void> {
    const { res } = await open(path, localAddress);
    let body = '';
    for await (const piece of res) body += String(piece);
    assert.equal(res.statusCode, 429, body);
    const answer = JSON.parse(body) as { error: { code: string; message: string } };
    assert.equal(answer.error.code, 'too-many-streams');
    assert.match(answer.error.message, new RegExp(limit.replace('.', '\\.')));
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'info-streams-'));
    store = await createFsArtifactStore({ root: dir });
    await bus.ensureTopics(testTopics(prefix));
    service = createInfoService({
      bus,
      store,
      logger,
      instanceId: 'info-streams',
      publicUrl: 'http://127.0.0.1:1/repos',
      serveRepos: false,
      catchUpQuietMs: 200,
      streams: { maxPerClient: 2, maxTotal: 3, slowReaderMs: SLOW_READER_MS },
    });
    server = await service.listen({
      host: '127.0.0.1',
      port: 0,
      auth: createHttpAuth({ anonymous: 'read', tokens: createTokenSource({}) }),
    });
    port = Number(new URL(server.url).port);
    await service.start();
    await sendLog(['build started']);
    await waitFor(async () => (await fetch(`${server.url}/api/builds/${buildId}/log`)).status === 200, 'live log');
  });
  after(async () => {
    await server.close();
    await service.stop();
    await bus.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('caps streams per client address and in total, event streams and followed logs together', async () => {
    const first = await open('/api/events', '127.0.0.1');
    const second = await open(`/api/builds/${buildId}/log?follow=1`, '127.0.0.1');
    assert.equal(first.res.statusCode, 200);
    assert.equal(second.res.statusCode, 200);
    await refused('/api/events', '127.0.0.1', 'info.streams.maxPerClient');
    await refused(`/api/builds/${buildId}/log?follow=1`, '127.0.0.1', 'info.streams.maxPerClient');

    const third = await open('/api/events', '127.0.0.2');
    assert.equal(third.res.statusCode, 200, 'another address has places of its own');
    await refused('/api/events', '127.0.0.3', 'info.streams.maxTotal');
    // A plain (not followed) log read is no stream and is never capped.
    assert.equal((await fetch(`${server.url}/api/builds/${buildId}/log`)).status, 200);

    first.req.destroy();
    await waitFor(async () => {
      const { res } = await open('/api/events', '127.0.0.3');
      res.destroy();
      return res.statusCode === 200;
    }, 'a closed stream frees its place');
    second.req.destroy();
    third.req.destroy();
  });

  it('destroys a follower that stops reading after slowReaderMs, before the unread-bytes limit', async () => {
    // 127.0.0.5 holds one stream that reads; the slow follower is its second and last place, so
    // a probe from that address is admitted only once the server has destroyed the follower.
    const holder = await open('/api/events', '127.0.0.5');
    holder.res.resume();
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.5' });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let received = 0;
    let text = '';
    socket.on('data', (piece: Buffer) => {
      received += piece.length;
      text = (text + piece.toString('latin1')).slice(-64);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`GET /api/builds/${buildId}/log?follow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await waitFor(() => text.includes('build started'), 'the follow started');
    await refused('/api/events', '127.0.0.5', 'info.streams.maxPerClient');
    socket.pause();

    // 256 kB a chunk every 50 ms: once the kernel's buffers are full, the server's writes wait;
    // within slowReaderMs (400 ms) about 2 MB more arrive; the 4 MiB unread limit would wait for more.
    const line = 'x'.repeat(8000);
    let pushed = 0;
    let destroyed = false;
    for (let chunk = 0; chunk < 200 && !destroyed; chunk += 1) {
      await sendLog(Array.from({ length: 32 }, () => line));
      pushed += 32 * (line.length + 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const probe = await open('/api/events', '127.0.0.5');
      probe.res.destroy();
      destroyed = probe.res.statusCode === 200;
    }
    assert.ok(destroyed, `the slow follower still holds its place after ${pushed} bytes`);
    socket.resume();
    const outcome = await Promise.race([
      closed.then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open'), 5000)),
    ]);
    assert.equal(outcome, 'closed', 'the server closed the slow follower');
    assert.ok(!text.endsWith('0\r\n\r\n'), 'destroyed, not ended: no last chunk of the response');
    assert.ok(
      pushed - received < 3 * 1024 * 1024,
      `destroyed by the time limit, not the unread-bytes limit: ${pushed} pushed, ${received} received`,
    );
    holder.req.destroy();
    socket.destroy();
  });
});
