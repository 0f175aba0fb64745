/**
 * The front door under generated input (issue 14, part D), on a real cluster (scheduler,
 * runner, collector, info service on Kafka): a few thousand generated bodies to `POST
 * /api/builds` and raw records to every topic a service consumes, from a seeded PRNG (the seed
 * is printed; BUILDFLEET_FUZZ_SEED repeats a run). Every body is answered (202 or a 4xx with a
 * JSON error, never a 5xx or a hang); every 202 reaches the scheduler as a submission (a build
 * event carries its submitId, no dead letter holds it); every bad record lands in the
 * dead-letter topic once per consumer group, with a reason and within the size limit; the
 * event loop of the process running all the services never stalls for more than 100 ms, a
 * megabyte-long project name included. Then each limit of the HTTP layer, probed over a raw
 * socket, answers its status with a JSON body.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { submitOf } from '../../info-service/http/requests.ts';
import { createRepoRequestHandler } from '../../shared/repos/http.ts';
import { createFsArtifactStore } from '../../shared/storage/index.ts';
import {
  DeadletterLimits,
  consumerGroupNames,
  isMessage,
  type Deadletter,
  type MessageType,
} from '../../shared/messages/index.ts';
import { seededRandom } from '../bench/graph-repo.ts';
import { useKafka } from '../harness/kafka.ts';
import { useNoopCluster } from '../harness/noop-cluster-hooks.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();

const SEED = Number(process.env['BUILDFLEET_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const HTTP_INPUTS = 2000;
/** Bodies that are valid submissions, at most: each costs the scheduler a submission (~0.1-0.2 s on 2 cores). */
const MAX_ACCEPTED = 60;
const BUS_INPUTS = 1200;
const MAX_STALL_MS = 100;

// mulberry32 (the benchmarks' seeded PRNG): a failing run is repeated with its seed.
const random = seededRandom(SEED);
const int = (below: number): number => Math.floor(random() * below);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

const CHARS = [
  'a',
  'Z',
  '0',
  '9',
  '-',
  '_',
  '.',
  '/',
  '@',
  '\\',
  ' ',
  '\n',
  '\u0000',
  'é',
  '😀',
  '%',
  '"',
  ':',
  '+',
  '~',
];
const SPECIAL = [
  '',
  '.',
  '..',
  '/',
  '//',
  'a//b',
  'change:x@y',
  '-rf',
  '--upload-pack=x',
  'projects/',
  'main..x',
  '%2e%2e',
];
const LENGTHS = [254, 255, 256, 1000, 100_000];

function randomString(): string {
  switch (int(5)) {
    case 0:
      return pick(SPECIAL);
    case 1:
      return 'a'.repeat(pick(LENGTHS));
    case 2:
      return pick(['projects/f/ok', 'projects', 'projects/f', 'bookworm', 'x86_64', 'manual', 'all', 'dependants']);
    default:
      return Array.from({ length: int(24) }, () => pick(CHARS)).join('');
  }
}

function randomValue(depth = 0): unknown {
  switch (int(depth > 1 ? 6 : 8)) {
    case 0:
      return random() < 0.5 ? int(10) : pick([-1, 1.5, 1e308, Number.MAX_SAFE_INTEGER]);
    case 1:
      return random() < 0.5;
    case 2:
      return null;
    case 6:
      return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    case 7:
      return Object.fromEntries(Array.from({ length: int(4) }, () => [randomString(), randomValue(depth + 1)]));
    default:
      return randomString();
  }
}

/** A valid value mutated at `least` to `least + 2` fields: replaced, removed, or an unknown field added. */
function mutated(valid: Record<string, unknown>, fields: readonly string[], least = 1): Record<string, unknown> {
  const value: Record<string, unknown> = structuredClone(valid);
  for (let n = least + int(3); n > 0; n--) {
    const field = pick(fields);
    const roll = random();
    if (roll < 0.6) value[field] = randomValue();
    else if (roll < 0.8) delete value[field];
    else value[randomString().slice(0, 20) || 'extra'] = randomValue();
  }
  return value;
}

const SUBMIT_FIELDS = ['project', 'targets', 'ref', 'submitId', 'requestedBy', 'ignoreDeps', 'scope', 'dist', 'reason'];

interface HttpInput {
  body: string | Buffer;
  contentType: string | undefined;
  /** What the shared rules (submitOf) say of it: accepted (202) or not. */
  valid: boolean;
}

function parsedOrUndefined(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function httpInput(index: number): Omit<HttpInput, 'valid'> {
  const roll = random();
  if (roll < 0.03) {
    return { body: Buffer.from(Array.from({ length: int(64) }, () => int(256))), contentType: 'application/json' };
  }
  if (roll < 0.06) return { body: '{"project": "projects/f/ok"', contentType: 'application/json' };
  if (roll < 0.08) {
    const contentType = pick(['text/plain', 'application/x-www-form-urlencoded', undefined]);
    return { body: '{"project":"projects/f/ok"}', contentType };
  }
  if (roll < 0.12) return { body: JSON.stringify(randomValue(2)) ?? 'null', contentType: 'application/json' };
  const valid = {
    project: 'projects/f/ok',
    submitId: `fz-${SEED}-${index}`,
    targets: [{ dist: 'bookworm', arch: 'x86_64' }],
  };
  const body = random() < 0.05 ? valid : mutated(valid, SUBMIT_FIELDS);
  return { body: JSON.stringify(body), contentType: 'application/json' };
}

/**
 * HTTP_INPUTS bodies, at most MAX_ACCEPTED of them valid: every accepted submission costs the
 * scheduler real work (git, state, events), and the run is bounded in time.
 */
function httpInputs(): HttpInput[] {
  const inputs: HttpInput[] = [];
  let accepted = 0;
  for (let index = 0; inputs.length < HTTP_INPUTS; index++) {
    const input = httpInput(index);
    const body = Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body);
    let valid = input.contentType === 'application/json';
    try {
      if (valid) submitOf(parsedOrUndefined(body), () => 'id', new Date());
    } catch {
      valid = false;
    }
    if (valid && accepted >= MAX_ACCEPTED) continue;
    if (valid) accepted++;
    inputs.push({ ...input, valid });
  }
  return inputs;
}

/** Raw records of every consumed topic: mutations of a valid message of the topic's type, bytes, huge names. */
type Consumed = 'submit' | 'events' | 'control' | 'requests' | 'infoRequests' | 'logs';
const templates: Record<Consumed, { type: MessageType; valid: Record<string, unknown> }> = {
  submit: { type: 'build.submit', valid: { v: 1, type: 'build.submit', submitId: 's', project: 'projects/f/ok' } },
  events: {
    type: 'build.event',
    valid: {
      v: 1,
      type: 'build.event',
      buildId: 'b',
      attempt: 1,
      buildKey: 'projects/f/ok@bookworm.x86_64',
      project: 'projects/f/ok',
      target: { dist: 'bookworm', arch: 'x86_64' },
      repoKey: 'projects/f/bookworm',
      state: 'queued',
      at: '2026-01-01T00:00:00Z',
      source: { service: 'test', instance: 't' },
    },
  },
  control: { type: 'control.cancel', valid: { v: 1, type: 'control.cancel', buildId: 'b', reason: 'r' } },
  requests: {
    type: 'build.request',
    valid: {
      v: 1,
      type: 'build.request',
      buildId: 'b',
      attempt: 1,
      buildKey: 'projects/f/ok@bookworm.x86_64',
      project: 'projects/f/ok',
      kind: 'noop',
      target: { dist: 'bookworm', arch: 'x86_64' },
      runnerGroup: 'default',
      source: { url: '/nonexistent', commit: 'a'.repeat(40) },
      submitId: 's',
      leaseMs: 1000,
    },
  },
  infoRequests: { type: 'info.query', valid: { v: 1, type: 'info.query', queryId: 'q', replyTo: 'r', buildId: 'b' } },
  logs: {
    type: 'log.chunk',
    valid: { v: 1, type: 'log.chunk', buildId: 'b', attempt: 1, seq: 0, lines: ['x'], at: '2026-01-01T00:00:00Z' },
  },
};

function busValue(topic: Consumed): Buffer {
  const { valid } = templates[topic];
  const roll = random();
  if (roll < 0.05) return Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
  if (roll < 0.1) return Buffer.from(JSON.stringify(randomValue(1)) ?? 'null');
  const value = mutated(
    valid,
    Object.keys(valid)
      .filter((k) => k !== 'v' && k !== 'type')
      .concat('v', 'type'),
  );
  return Buffer.from(JSON.stringify(value));
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * How long the event loop was kept busy between two ticks of a 10 ms timer, as CPU time of the
 * main thread (Linux: /proc/self/task/<pid>/stat, in clock ticks of 10 ms). A wall-clock delay
 * (the longest gap between ticks, reported beside) also counts the time a loaded machine did not run the
 * process at all: CI runs two lanes of tests, Kafka and podman on 2 cores, and a descheduled
 * process is no stall of ours. A tick whose CPU time exceeds 100 ms is code that held the loop.
 */
function stallMeter(): { stop(): { maxCpuMs: number; maxWallMs: number } } {
  const statFile = `/proc/self/task/${process.pid}/stat`;
  const cpuMs = (): number => {
    const stat = readFileSync(statFile, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5); after the ")" the list starts at field 3
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  let lastCpu = cpuMs();
  let lastWall = performance.now();
  let maxCpuMs = 0;
  let maxWallMs = 0;
  const timer = setInterval(() => {
    const cpu = cpuMs();
    const wall = performance.now();
    maxCpuMs = Math.max(maxCpuMs, cpu - lastCpu);
    maxWallMs = Math.max(maxWallMs, wall - lastWall);
    lastCpu = cpu;
    lastWall = wall;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return { maxCpuMs, maxWallMs };
    },
  };
}

const digests = new WeakMap<Deadletter, string>();
/** The SHA-256 of the whole value a dead letter reports on (kept: the waits ask again and again). */
function refusedDigest(letter: Deadletter): string {
  let digest = digests.get(letter) ?? letter.payloadSha256;
  if (digest === undefined) {
    digest = sha256(Buffer.from(letter.payload, letter.payloadEncoding === 'base64' ? 'base64' : 'utf8'));
    digests.set(letter, digest);
  }
  return digest;
}

/** A raw HTTP/1.1 exchange over a socket: the status and the parsed JSON body of the answer. */
async function raw(port: number, request: string | Buffer): Promise<{ status: number; body: unknown; text: string }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve());
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve() : reject(error)));
  });
  socket.write(request);
  const timer = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
  await ended.finally(() => clearTimeout(timer));
  const text = Buffer.concat(chunks).toString('utf8');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  return { status, body, text: text.slice(0, 300) };
}

function assertJsonError(answer: { status: number; body: unknown; text: string }, status: number, what: string): void {
  assert.equal(answer.status, status, `${what}: ${answer.text}`);
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  assert.equal(typeof error?.code, 'string', `${what}: a JSON error body, got ${answer.text}`);
  assert.equal(typeof error?.message, 'string', `${what}: ${answer.text}`);
}

describe('the front door under generated input', { timeout: 240_000 }, () => {
  const cluster = useNoopCluster(
    {
      brokers,
      infoService: true,
      files: { 'projects/f/ok/buildfleet.yml': 'kind: noop\ntargets: [{ dist: bookworm, arch: x86_64 }]\n' },
    },
    async (started) => {
      await started.startRunner({ id: 'runner-fuzz', slots: 2 });
      await waitFor(async () => (await fetch(`${started.apiUrl}/healthz`)).ok, 'the info service view', 30_000, 100);
    },
  );

  it(`answers every submission and dead-letters every bad record with a reason, without stalls (seed ${SEED})`, async () => {
    const { topics, bus, prefix, apiUrl } = cluster;
    const groups = consumerGroupNames(prefix);
    const requestsTopic = topics.requests('default', 'x86_64');
    const topicOf = (name: Consumed): string => (name === 'requests' ? requestsTopic : topics[name]);

    // The inputs are made first, so that the event-loop measure sees the services and not the generator.
    const inputs = httpInputs();
    const records = new Map<string, Buffer[]>(); // topic -> values its consumers must refuse
    const names = Object.keys(templates) as Consumed[];
    for (let n = 0; n < BUS_INPUTS; n++) {
      const name = names[n % names.length] ?? 'submit';
      const value = busValue(name);
      if (isMessage(templates[name].type, parsedOrUndefined(value))) continue;
      records.set(topicOf(name), [...(records.get(topicOf(name)) ?? []), value]);
    }
    // A megabyte-long project (the key is short: a producer hashes its keys, which the test would measure).
    const huge = Buffer.from(
      JSON.stringify({ v: 1, type: 'build.submit', submitId: 'huge', project: `projects/${'a'.repeat(1_000_000)}` }),
    );
    const expected = new Map([...records].map(([topic, values]) => [topic, new Set(values.map(sha256))]));
    expected.get(topics.submit)?.add(sha256(huge));

    let meter = stallMeter();
    const started = Date.now();

    // 1. POST /api/builds, 8 at a time, the bodies to refuse first; each answer is what the shared rules say.
    const answers = new Map<number, number>();
    const accepted: string[] = [];
    const post = async (batch: HttpInput[]): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < batch.length) {
            const input = batch[next++] as HttpInput;
            const response = await fetch(`${apiUrl}/api/builds`, {
              method: 'POST',
              headers: input.contentType === undefined ? {} : { 'content-type': input.contentType },
              body: input.body,
              signal: AbortSignal.timeout(10_000),
            });
            const body = (await response.json()) as { submitId?: string; error?: { code: string; message: string } };
            answers.set(response.status, (answers.get(response.status) ?? 0) + 1);
            const shown = String(input.body).slice(0, 200);
            assert.ok([202, 400, 413, 415].includes(response.status), `${response.status} for ${shown}`);
            assert.equal(
              response.status === 202,
              input.valid,
              `${response.status} ${JSON.stringify(body)} for ${shown}`,
            );
            if (response.status === 202) accepted.push(body.submitId ?? '');
            else assert.ok(body.error?.code && body.error.message, JSON.stringify(body));
          }
        }),
      );
    };
    await post(inputs.filter((input) => !input.valid));
    const httpMs = Date.now() - started;

    // 2. Raw records on every consumed topic, in batches below the broker's 1 MB limit.
    for (const [topic, values] of [...records, [topics.submit, [huge]] as const]) {
      let batch: Buffer[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length > 0)
          await bus.publish(
            topic,
            batch.map((value) => ({ key: 'fuzz', value })),
          );
        batch = [];
      };
      for (const value of values) {
        if (batch.reduce((sum, b) => sum + b.length, value.length) > 500_000) await flush();
        batch.push(value);
      }
      await flush();
    }
    const consumers: Array<[string, string | RegExp]> = [
      [topics.submit, groups.scheduler],
      [topics.events, groups.schedulerEvents],
      [topics.events, groups.collector],
      [topics.events, /\.info-service\.(?!logs\.)/],
      [topics.control, groups.schedulerControl],
      [topics.control, /\.runner\.default\.control\./],
      [requestsTopic, groups.runner('default', 'x86_64')],
      [topics.infoRequests, groups.info],
      [topics.logs, /\.info-service\.logs\./],
    ];
    const missing = (): string[] =>
      consumers.flatMap(([topic, group]) => {
        const got = new Set(
          cluster.deadletters
            .filter(
              (d) => d.sourceTopic === topic && (typeof group === 'string' ? d.group === group : group.test(d.group)),
            )
            .map(refusedDigest),
        );
        const lacking = [...(expected.get(topic) ?? [])].filter((digest) => !got.has(digest));
        return lacking.length === 0 ? [] : [`${topic} / ${String(group)}: ${lacking.length} not dead-lettered`];
      });
    await waitFor(
      () => missing().length === 0,
      'a dead letter of every bad record from every consumer',
      60_000,
      250,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${missing().join('\n')}`);
    });
    const refusal = meter.stop();
    const refusedMs = Date.now() - started;

    // 3. The valid bodies: every 202 reaches the scheduler as a submission (an event carries its
    // submitId) and no dead letter holds it. Measured apart: accepted work runs git (below).
    meter = stallMeter();
    await post(inputs.filter((input) => input.valid));
    const seen = (): Set<string> =>
      new Set(cluster.events.flatMap((e) => (e.submitId === undefined ? [] : [e.submitId])));
    await waitFor(
      () => accepted.every((id) => seen().has(id)),
      'an event of every accepted submission',
      60_000,
      250,
    ).catch((error: unknown) => {
      const lost = accepted.filter((id) => !seen().has(id));
      throw new Error(`${String(error)}\n${lost.length} accepted without an event: ${lost.slice(0, 5).join(', ')}`);
    });
    const acceptedWork = meter.stop();
    const totalMs = Date.now() - started;

    // Nothing but the raw records was dead-lettered from the submit topic: no accepted submission.
    const submitLetters = cluster.deadletters.filter((d) => d.sourceTopic === topics.submit);
    const unexpected = submitLetters.filter((d) => !expected.get(topics.submit)?.has(refusedDigest(d)));
    assert.deepEqual(
      unexpected.map((d) => d.reason),
      [],
      'accepted submissions were dead-lettered',
    );
    for (const letter of cluster.deadletters) {
      assert.ok(letter.reason.length > 0);
      assert.ok(Buffer.byteLength(JSON.stringify(letter)) <= DeadletterLimits.maxBytes);
    }
    const hugeLetter = submitLetters.find((d) => d.payloadSha256 === sha256(huge));
    assert.ok(hugeLetter, 'the megabyte-long project is dead-lettered');
    assert.equal(hugeLetter.payloadTruncated, true);
    assert.match(hugeLetter.reason, /field "project" must be at most 255 characters long/);

    const refused = [...expected.values()].reduce((sum, set) => sum + set.size, 0);
    const shown = ({ maxCpuMs, maxWallMs }: { maxCpuMs: number; maxWallMs: number }): string =>
      `loop held at most ${maxCpuMs} ms (longest tick gap ${maxWallMs.toFixed(0)} ms)`;
    process.stderr.write(
      `fuzz seed ${SEED}: ${inputs.length} bodies (${JSON.stringify(Object.fromEntries(answers))}), the refused in ` +
        `${httpMs} ms; ${refused} bad records dead-lettered by every consumer; refusals ${refusedMs} ms, ` +
        `${shown(refusal)}; ${accepted.length} accepted submissions handled, ${shown(acceptedWork)}; ${totalMs} ms in all\n`,
    );
    assert.ok(
      (answers.get(202) ?? 0) >= MAX_ACCEPTED / 2 && (answers.get(400) ?? 0) > 500,
      JSON.stringify([...answers]),
    );
    assert.ok(refusal.maxCpuMs <= MAX_STALL_MS, `refusing held the event loop for ${refusal.maxCpuMs} ms`);
    assert.ok(
      acceptedWork.maxCpuMs <= MAX_STALL_MS,
      `accepted work held the event loop for ${acceptedWork.maxCpuMs} ms`,
    );
  });

  it('answers each limit of the HTTP layer with its status and a JSON body naming the problem', async () => {
    const port = Number(new URL(cluster.apiUrl).port);
    const post = (body: string, headers = 'content-type: application/json\r\n'): string =>
      `POST /api/builds HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
    const get = (target: string, headers = ''): string =>
      `GET ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}connection: close\r\n\r\n`;

    const project = await raw(port, post(JSON.stringify({ project: `p${'x'.repeat(300)}` })));
    assertJsonError(project, 400, 'a project over 255 characters');
    assert.equal((project.body as { error: { field?: string } }).error.field, 'project');
    const reserved = await raw(port, post(JSON.stringify({ project: 'projects/f/ok', submitId: 'change:x@y' })));
    assertJsonError(reserved, 400, 'a change: submitId');
    assert.equal((reserved.body as { error: { field?: string } }).error.field, 'submitId');
    assertJsonError(await raw(port, post('{"project":')), 400, 'a body that is not JSON');
    assertJsonError(await raw(port, post('{"project":"p"}', 'content-type: text/plain\r\n')), 415, 'a text body');
    assertJsonError(await raw(port, post('x'.repeat(1024 * 1024 + 1))), 413, 'a body over 1 MiB');
    assertJsonError(await raw(port, get(`/api/builds?project=${'x'.repeat(9000)}`)), 414, 'a target over 8 KiB');
    assertJsonError(await raw(port, get(`/${'x'.repeat(20_000)}`)), 414, 'a request line beyond the header buffer');
    assertJsonError(
      await raw(port, get('/api/builds', `x-big: ${'x'.repeat(20_000)}\r\n`)),
      431,
      'headers over 16 KiB',
    );
    assertJsonError(await raw(port, get('/repos/a/apt/%E0%A4%A')), 400, 'bad percent-encoding under /repos/');
    assertJsonError(await raw(port, get('/api/builds?state=%zz')), 400, 'bad percent-encoding in the query');
    assertJsonError(await raw(port, 'GET / HTTP/1.1\r\n\r\n'), 400, 'no Host');
    assertJsonError(await raw(port, 'HELLO\r\n\r\n'), 400, 'not HTTP');
    assertJsonError(await raw(port, 'GET /a b c HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'), 400, 'a malformed request line');
    assertJsonError(
      await raw(port, 'GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nbad header\r\n\r\n'),
      400,
      'a malformed header',
    );
    assertJsonError(await raw(port, `${get('/api/builds').slice(0, -2)}\0\r\n\r\n`), 400, 'a NUL in the headers');
    assertJsonError(await raw(port, get('/api/nothing')), 404, 'an unknown path');
    assertJsonError(
      await raw(port, 'DELETE /api/builds HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n'),
      405,
      'another method',
    );
  });

  it('answers bad percent-encoding with 400 in JSON from the /repos handler on a server of its own', async () => {
    const store = await createFsArtifactStore({ root: `${cluster.storeRoot}-repos-probe` });
    const serve = createRepoRequestHandler(store);
    const server = createServer((request, response) => {
      void serve(request, response).then((handled) => {
        if (!handled) response.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      assertJsonError(
        await raw(port, 'GET /repos/a/apt/%E0%A4%A HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n'),
        400,
        'bad percent-encoding',
      );
      assertJsonError(
        await raw(port, 'GET /repos/a/apt/x HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n'),
        404,
        'a missing file',
      );
    } finally {
      server.close();
      await store.close();
    }
  });
});
