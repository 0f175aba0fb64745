/**
 * The shared HTTP layer (shared/http) on a real server on 127.0.0.1: every refusal it owns
 * (404, 405 with allow, 413, 414, 431, 400 for bad percent-encoding and for what is not HTTP,
 * 415) is answered with `{ error: { code, message } }`, routes get their parameters, query and
 * JSON body, and the metrics server carries extra routes such as the push webhook.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import {
  createGitWebhookHandler,
  DEFAULT_WEBHOOK_MAX_BODY_BYTES,
  WEBHOOK_PATH,
  webhookRoute,
} from '../../scheduler/changes/webhook.ts';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import { createHttpServer, sendJson, type HttpServer } from '../../shared/http/index.ts';
import { createMetrics, startMetricsServer } from '../../shared/metrics/index.ts';
import { githubPush, sign } from '../fixtures/webhooks.ts';

const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** What a refusal must look like: the status and `{ error: { code, message } }` in JSON. */
function assertRefusal(answer: Answer, status: number, code: string, message?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } }).error;
  assert.equal(error?.code, code);
  assert.equal(typeof error?.message, 'string');
  if (message) assert.match(String(error?.message), message);
}

async function call(url: string, init?: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

/**
 * Sends `head` (and `body`) as they are over a new connection and reads the answer to the end
 * (the request says `connection: close`, or the server closes after a refusal); bounded by 10 s.
 */
function rawCall(port: number, head: string, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer in 10 s to ${head.slice(0, 60)}`));
    }, 10_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    // the server may close while the rest of a refused request is still being written
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [top = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = top.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      const payload = rest.join('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ status, headers, body: payload === '' ? undefined : (JSON.parse(payload) as unknown) });
    });
    socket.write(head);
    if (body !== '') socket.write(body);
  });
}

describe('shared HTTP layer on a real server', () => {
  let server: HttpServer;
  const timed: Array<{ method: string; route: string; status: string }> = [];

  before(async () => {
    server = await createHttpServer({
      name: 'http-test',
      port: 0,
      logger,
      limits: { maxBodyBytes: 1024, maxUrlBytes: 2048, maxHeaderBytes: 8192 },
      requestDuration: { startTimer: () => (labels) => timed.push(labels) },
      routes: [
        {
          method: 'GET',
          path: '/things',
          handler: (_request, response, { query }) => sendJson(response, 200, { kinds: query.getAll('kind') }),
        },
        {
          method: 'POST',
          path: '/things',
          body: 'json',
          handler: (_request, response, { body }) => sendJson(response, 201, { got: body ?? null }),
        },
        {
          method: 'GET',
          path: '/things/:id',
          handler: (_request, response, { params }) => {
            if (params['id'] === 'missing') throw new BuildfleetError('build-unknown', 'no thing missing');
            if (params['id'] === 'broken') throw new Error('the handler broke');
            sendJson(response, 200, { id: params['id'] });
          },
        },
        {
          method: 'GET',
          path: '/files/*',
          handler: (_request, response, { params }) => sendJson(response, 200, { file: params['*'] }),
        },
        {
          method: 'PUT',
          path: '/uploads',
          body: 'stream',
          maxBodyBytes: 4096,
          handler: async (request, response) => {
            let size = 0;
            for await (const chunk of request) size += (chunk as Buffer).length;
            sendJson(response, 200, { size });
          },
        },
      ],
    });
  });

  after(() => server.close());

  it('routes by method and path, with parameters, wildcard, query and HEAD', async () => {
    assert.deepEqual((await call(`${server.url}/things?kind=a&kind=b`)).body, { kinds: ['a', 'b'] });
    assert.deepEqual((await call(`${server.url}/things/a%2Fb%20c`)).body, { id: 'a/b c' });
    assert.deepEqual((await call(`${server.url}/files/dists/bookworm/Release`)).body, {
      file: 'dists/bookworm/Release',
    });
    const head = await fetch(`${server.url}/things/x`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('404: a path no route has (an empty parameter included)', async () => {
    assertRefusal(await call(`${server.url}/nothing`), 404, 'not-found', /no route GET \/nothing/);
    assertRefusal(await call(`${server.url}/things/`), 404, 'not-found');
  });

  it('405: a known path with another method, with allow', async () => {
    const answer = await call(`${server.url}/things`, { method: 'DELETE' });
    assertRefusal(answer, 405, 'request-invalid', /DELETE is not allowed on \/things/);
    assert.equal(answer.headers['allow'], 'GET, HEAD, POST');
    const other = await call(`${server.url}/things/x`, { method: 'POST' });
    assertRefusal(other, 405, 'request-invalid');
    assert.equal(other.headers['allow'], 'GET, HEAD');
  });

  it('413: a body over the limit, declared or chunked, and the route limit of a streaming route', async () => {
    const json = { 'content-type': 'application/json' };
    const declared = await call(`${server.url}/things`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ pad: 'x'.repeat(2000) }),
    });
    assertRefusal(declared, 413, 'request-invalid', /larger than 1024 bytes/);
    assert.equal(declared.headers['connection'], 'close');
    const chunk = `"${'x'.repeat(1498)}"`;
    const chunked = await rawCall(
      server.port,
      'POST /things HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    );
    assertRefusal(chunked, 413, 'request-invalid');
    // a GET route takes no body: one announced beyond the limit is refused before the handler
    assertRefusal(
      await rawCall(server.port, 'GET /things HTTP/1.1\r\nhost: t\r\ncontent-length: 5000\r\n\r\n'),
      413,
      'request-invalid',
    );
    // the streaming route has its own, larger limit
    assert.deepEqual((await call(`${server.url}/uploads`, { method: 'PUT', body: 'y'.repeat(3000) })).body, {
      size: 3000,
    });
    assertRefusal(
      await call(`${server.url}/uploads`, { method: 'PUT', body: 'y'.repeat(5000) }),
      413,
      'request-invalid',
    );
  });

  it('414: a request target over the limit, inside or beyond the header buffer', async () => {
    assertRefusal(await call(`${server.url}/things/${'x'.repeat(3000)}`), 414, 'request-invalid', /2048 bytes/);
    // Longer than maxHeaderBytes: node's parser stops it before any route runs.
    const beyond = await rawCall(server.port, `GET /things/${'x'.repeat(10_000)} HTTP/1.1\r\nhost: t\r\n\r\n`);
    assertRefusal(beyond, 414, 'request-invalid');
  });

  it('431: headers over the limit', async () => {
    const answer = await rawCall(
      server.port,
      `GET /things HTTP/1.1\r\nhost: t\r\nx-big: ${'y'.repeat(10_000)}\r\n\r\n`,
    );
    assertRefusal(answer, 431, 'request-invalid', /headers are too large/);
  });

  it('400: bad percent-encoding in the path or the query, no Host, not HTTP, not a path', async () => {
    assertRefusal(await call(`${server.url}/things/%E0%A4%A`), 400, 'request-invalid', /percent-encoding/);
    assertRefusal(await call(`${server.url}/nothing/%ZZ`), 400, 'request-invalid', /percent-encoding/);
    assertRefusal(await call(`${server.url}/things?kind=%E0%A4%A`), 400, 'request-invalid', /query/);
    assertRefusal(
      await rawCall(server.port, 'GET /things HTTP/1.1\r\nconnection: close\r\n\r\n'),
      400,
      'request-invalid',
      /Host/,
    );
    assertRefusal(await rawCall(server.port, 'HELLO THERE\r\n\r\n'), 400, 'request-invalid');
    assertRefusal(
      await rawCall(server.port, 'OPTIONS * HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n'),
      400,
      'request-invalid',
    );
  });

  it('415: a JSON route given another content type, or a body without one; JSON and no body pass', async () => {
    const plain = await call(`${server.url}/things`, { method: 'POST', body: '{"a":1}' });
    assertRefusal(plain, 415, 'request-invalid', /text\/plain/);
    const form = await call(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    assertRefusal(form, 415, 'request-invalid');
    const untyped = await rawCall(
      server.port,
      'POST /things HTTP/1.1\r\nhost: t\r\ncontent-length: 7\r\nconnection: close\r\n\r\n',
      '{"a":1}',
    );
    assertRefusal(untyped, 415, 'request-invalid', /untyped/);
    const latin1 = await call(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
      body: '{}',
    });
    assertRefusal(latin1, 415, 'request-invalid');

    const ok = await call(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"a":1}',
    });
    assert.deepEqual([ok.status, ok.body], [201, { got: { a: 1 } }]);
    const vendor = await call(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.buildfleet+json' },
      body: '[1]',
    });
    assert.deepEqual([vendor.status, vendor.body], [201, { got: [1] }]);
    const empty = await call(`${server.url}/things`, { method: 'POST' });
    assert.deepEqual([empty.status, empty.body], [201, { got: null }]);
    const invalid = await call(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    assertRefusal(invalid, 400, 'request-invalid', /not valid JSON/);
  });

  it('answers handler errors by their code: 404 for build-unknown, 500 for anything else', async () => {
    assertRefusal(await call(`${server.url}/things/missing`), 404, 'build-unknown');
    assertRefusal(await call(`${server.url}/things/broken`), 500, 'internal', /the handler broke/);
    assert.deepEqual((await call(`${server.url}/things/still-fine`)).body, { id: 'still-fine' });
  });

  it('times every request by method, route pattern and status', () => {
    assert.ok(timed.some((t) => t.method === 'GET' && t.route === '/things/:id' && t.status === '200'));
    assert.ok(timed.some((t) => t.method === 'DELETE' && t.route === '/things' && t.status === '405'));
    assert.ok(timed.some((t) => t.route === '(unmatched)' && t.status === '404'));
  });

  it('refuses a route declared twice and a port that is taken as config-invalid', async () => {
    const handler = () => undefined;
    await assert.rejects(
      createHttpServer({
        name: 'twice',
        port: 0,
        routes: [
          { method: 'GET', path: '/a', handler },
          { method: ['GET', 'POST'], path: '/a', handler },
        ],
      }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && /GET \/a/.test(error.message),
    );
    await assert.rejects(
      createHttpServer({ name: 'taken', port: server.port, routes: [] }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && /EADDRINUSE/.test(error.message),
    );
  });
});

describe("the scheduler's servers: metrics and the push webhook, each on its own port", () => {
  const SECRET = 'webhook secret';
  const pushes: string[] = [];
  let metricsServer: HttpServer;
  let server: HttpServer;

  before(async () => {
    const metrics = createMetrics({ processMetrics: false });
    metricsServer = await startMetricsServer({ registry: metrics.registry, port: 0, logger });
    // As scheduler/main.ts serves it: the one webhook route on a listener of its own.
    const handler = createGitWebhookHandler({
      secret: SECRET,
      branch: 'main',
      logger,
      onPush: (push) => pushes.push(push.commit),
    });
    server = await createHttpServer({ name: 'webhook', port: 0, routes: [webhookRoute(() => handler)], logger });
  });

  after(() => Promise.all([server.close(), metricsServer.close()]));

  it('serves /metrics, /healthz and the webhook; refuses others in JSON', async () => {
    assert.equal((await fetch(`${metricsServer.url}/metrics`)).status, 200);
    assert.equal(await (await fetch(`${metricsServer.url}/healthz`)).text(), 'ok\n');
    assertRefusal(await call(`${metricsServer.url}${WEBHOOK_PATH}`, { method: 'POST' }), 404, 'not-found');
    const commit = 'c'.repeat(40);
    const delivery = sign(githubPush({ ref: 'refs/heads/main', after: commit }), SECRET);
    const pushed = await call(`${server.url}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    assert.deepEqual([pushed.status, pushed.body], [202, { status: 'accepted', commit }]);
    assert.deepEqual(pushes, [commit]);

    assertRefusal(await call(`${server.url}/other`), 404, 'not-found');
    const get = await call(`${server.url}${WEBHOOK_PATH}`);
    assertRefusal(get, 405, 'request-invalid');
    assert.equal(get.headers['allow'], 'POST');
    assertRefusal(await call(`${metricsServer.url}/metrics`, { method: 'POST' }), 405, 'request-invalid');
    // 2 MiB is over the server's default body limit but within the webhook's own
    const big = await call(`${server.url}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push' },
      body: 'x'.repeat(2 * 1024 * 1024),
    });
    assertRefusal(big, 401, 'webhook-signature-invalid');
    assertRefusal(
      await call(`${server.url}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { 'x-github-event': 'push' },
        body: 'x'.repeat(DEFAULT_WEBHOOK_MAX_BODY_BYTES + 1),
      }),
      413,
      'request-invalid',
    );
  });
});
