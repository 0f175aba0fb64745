/**
 * HTTP identities on a real info service (embedded bus, real HTTP, the real `buildfleet tokens`
 * and `buildfleet build` commands): a missing, malformed, unknown or revoked token is 401; a
 * token whose role or projects do not cover the request is 403; a revoke takes effect without a
 * restart; a foreign Host (DNS rebinding) and a foreign Origin (CSRF) are refused; the CLI sends
 * BUILDFLEET_TOKEN or the token saved in its credentials file.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { saveToken } from '../../cli/client/credentials.ts';
import { InfoSettings } from '../../info-service/config.ts';
import { startInfoService, type RunningInfoService } from '../../info-service/service.ts';
import { EmbeddedBroker } from '../../shared/bus/embedded/broker.ts';
import { createEmbeddedBus } from '../../shared/bus/embedded/bus.ts';
import { loadConfig } from '../../shared/config/index.ts';
import {
  buildEvent,
  buildKeyOf,
  decoderFor,
  repoKeyOf,
  topicNames,
  type BuildSubmit,
  type ControlCancel,
} from '../../shared/messages/index.ts';
import { createFsArtifactStore } from '../../shared/storage/index.ts';
import { cli, startCli } from '../harness/cli-process.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import { waitFor } from '../harness/wait.ts';

const OTHER_PROJECT = 'projects/other/app';

describe('HTTP identities: tokens, roles, Host and Origin', { timeout: 120_000 }, () => {
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  // the info service's log lines, to check that each decision names its principal
  type LogLine = { msg: string; principal?: string; status?: number };
  const logLines: LogLine[] = [];
  const serviceLogger = pino(
    { level: 'debug' },
    { write: (line: string) => void logLines.push(JSON.parse(line) as LogLine) },
  );
  const cleanups: Array<() => Promise<unknown>> = [];
  const submits: BuildSubmit[] = [];
  const cancels: ControlCancel[] = [];
  const otherBuildId = randomUUID();
  let dir = '';
  let tokensFile = '';
  let info: RunningInfoService;
  let api = '';
  const secrets: Record<string, string> = {};

  async function createToken(args: string[]): Promise<string> {
    const made = await cli(['tokens', 'create', '--file', tokensFile, '--json', ...args]);
    assert.equal(made.exitCode, 0, made.stderr);
    return (JSON.parse(made.stdout) as { token: string }).token;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildfleet-http-auth-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    tokensFile = join(dir, 'tokens.json');
    secrets.reader = await createToken(['--name', 'reader', '--role', 'read']);
    secrets.ci = await createToken(['--name', 'ci', '--role', 'submit', '--project-prefix', 'projects/demo']);
    secrets.boss = await createToken(['--name', 'boss', '--role', 'admin']);

    const prefix = `auth${randomUUID().slice(0, 8)}`;
    const topics = topicNames(prefix);
    const bus = createEmbeddedBus({ broker: new EmbeddedBroker(), topicPrefix: prefix, logger });
    cleanups.unshift(() => bus.close());
    await bus.ensureTopics(testTopics(prefix));
    // a build of a project the submit token does not cover, for the cancel checks
    const target = { dist: 'bookworm', arch: 'x86_64' };
    await bus.publish(topics.events, {
      key: repoKeyOf(OTHER_PROJECT, 'bookworm'),
      value: buildEvent({
        buildId: otherBuildId,
        attempt: 1,
        buildKey: buildKeyOf(OTHER_PROJECT, target),
        project: OTHER_PROJECT,
        target,
        repoKey: repoKeyOf(OTHER_PROJECT, 'bookworm'),
        state: 'queued',
        source: { service: 'scheduler', instance: 'test' },
        submitId: 'submit-other',
      }),
    });
    const watch = await Promise.all([
      bus.subscribe<BuildSubmit>({
        name: 'submit-watch',
        topics: [topics.submit],
        decode: decoderFor('build.submit'),
        handle: async (r) => void submits.push(r.value),
      }),
      bus.subscribe<ControlCancel>({
        name: 'control-watch',
        topics: [topics.control],
        decode: decoderFor('control.cancel'),
        handle: async (r) => void cancels.push(r.value),
      }),
    ]);
    await Promise.all(watch.map((s) => s.ready));
    const store = await createFsArtifactStore({ root: join(dir, 'store') });
    cleanups.unshift(() => store.close());
    const settings = loadConfig(InfoSettings, {
      env: {},
      defaults: {
        id: prefix,
        http: { host: '127.0.0.1', port: 0 },
        publicUrl: 'https://builds.example.org/repos',
        catchUpQuietMs: 200,
        auth: { anonymous: 'none', tokensFile },
      },
    });
    info = await startInfoService(settings, { bus, store, logger: serviceLogger });
    cleanups.unshift(() => info.stop());
    api = info.url;
    await waitFor(() => info.service.view.get(otherBuildId) !== undefined, 'the other build in the view');
  });

  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  const bearer = (name: string): Record<string, string> => ({ authorization: `Bearer ${secrets[name] ?? ''}` });
  const json = { 'content-type': 'application/json' };
  const codeOf = async (response: Response): Promise<string> =>
    ((await response.json()) as { error: { code: string } }).error.code;
  const submit = (project: string, headers: Record<string, string>) =>
    fetch(`${api}/api/builds`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ project }) });

  it('tokens list shows names and roles, never secrets or hashes', async () => {
    const listed = await cli(['tokens', 'list', '--file', tokensFile]);
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.match(listed.stdout, /^ci\tsubmit\tprojects\/demo\t/m);
    assert.match(listed.stdout, /^boss\tadmin\t\*\t/m);
    const file = await readFile(tokensFile, 'utf8');
    for (const secret of Object.values(secrets)) {
      assert.ok(!listed.stdout.includes(secret) && !file.includes(secret), 'no secret at rest or in the list');
    }
    const hashes = (JSON.parse(file) as { tokens: Array<{ sha256: string }> }).tokens.map((t) => t.sha256);
    assert.equal(hashes.length, 3);
    for (const hash of hashes) assert.ok(!listed.stdout.includes(hash), 'no hash in the list');
  });

  it('a missing, malformed or unknown token is 401 with WWW-Authenticate: Bearer; public routes need none', async () => {
    const missing = await fetch(`${api}/api/builds`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="buildfleet"');
    assert.equal(await codeOf(missing), 'auth-required');
    const malformed = await fetch(`${api}/api/builds`, { headers: { authorization: 'Basic dXNlcjpwdw==' } });
    assert.equal(malformed.status, 401);
    const unknown = await fetch(`${api}/api/builds`, { headers: { authorization: `Bearer bft_${'A'.repeat(43)}` } });
    assert.equal(unknown.status, 401);
    assert.match(unknown.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal((await submit('projects/demo/hello', {})).status, 401);
    assert.equal((await fetch(`${api}/healthz`)).status, 200);
    assert.equal((await fetch(`${api}/`)).status, 200, 'the dashboard page');
    assert.equal((await fetch(`${api}/repos/nothing/here`)).status, 404, 'apt and dnf send no token');
  });

  it('a read token reads but may not submit or cancel (403)', async () => {
    assert.equal((await fetch(`${api}/api/builds`, { headers: bearer('reader') })).status, 200);
    assert.equal((await fetch(`${api}/api/builds/${otherBuildId}`, { headers: bearer('reader') })).status, 200);
    const refused = await submit('projects/demo/hello', bearer('reader'));
    assert.equal(refused.status, 403);
    assert.equal(await codeOf(refused), 'forbidden');
    const cancel = await fetch(`${api}/api/builds/${otherBuildId}/cancel`, {
      method: 'POST',
      headers: bearer('reader'),
    });
    assert.equal(cancel.status, 403);
  });

  it('a submit token submits under its project prefixes only; admin submits and cancels anything', async () => {
    const mine = await submit('projects/demo/hello', bearer('ci'));
    assert.equal(mine.status, 202);
    const { submitId } = (await mine.json()) as { submitId: string };
    await waitFor(() => submits.some((s) => s.submitId === submitId), 'the accepted build.submit');
    assert.equal(submits.find((s) => s.submitId === submitId)?.requestedBy, 'token ci', 'the record names the token');

    const other = await submit(OTHER_PROJECT, bearer('ci'));
    assert.equal(other.status, 403);
    assert.match(((await other.json()) as { error: { message: string } }).error.message, /projects\/other\/app/);
    const lookalike = await submit('projects/demo-evil/x', bearer('ci'));
    assert.equal(lookalike.status, 403, 'a prefix covers whole path segments');
    const cancel = await fetch(`${api}/api/builds/${otherBuildId}/cancel`, { method: 'POST', headers: bearer('ci') });
    assert.equal(cancel.status, 403, 'cancel needs the build project too');
    assert.equal(submits.filter((s) => s.project !== 'projects/demo/hello').length, 0, 'nothing refused was published');

    assert.equal((await submit(OTHER_PROJECT, bearer('boss'))).status, 202);
    const cancelled = await fetch(`${api}/api/builds/${otherBuildId}/cancel`, {
      method: 'POST',
      headers: bearer('boss'),
    });
    assert.equal(cancelled.status, 202);
    await waitFor(() => cancels.some((c) => c.buildId === otherBuildId), 'the admin cancel');

    const denied = logLines.filter((l) => l.msg === 'info-service: request denied');
    assert.ok(
      denied.some((l) => l.principal === 'ci' && l.status === 403),
      'the denial names the token',
    );
    assert.ok(denied.some((l) => l.principal === 'reader' && l.status === 403));
    const submitted = logLines.filter((l) => l.msg === 'info-service: build submitted').map((l) => l.principal);
    assert.ok(submitted.includes('ci') && submitted.includes('boss'), JSON.stringify(submitted));
    const allowedReads = logLines.filter((l) => l.msg === 'info-service: request allowed' && l.principal === 'reader');
    assert.ok(allowedReads.length > 0, 'allowed reads are logged (debug) with the principal');
  });

  it('a revoked token is 401 from the next request on, without a restart', async () => {
    const temp = await createToken(['--name', 'temp', '--role', 'read']);
    const headers = { authorization: `Bearer ${temp}` };
    assert.equal((await fetch(`${api}/api/builds`, { headers })).status, 200, 'a token made while running works');
    const revoked = await cli(['tokens', 'revoke', 'temp', '--file', tokensFile]);
    assert.equal(revoked.exitCode, 0, revoked.stderr);
    const after = await fetch(`${api}/api/builds`, { headers });
    assert.equal(after.status, 401);
    assert.match(((await after.json()) as { error: { message: string } }).error.message, /"temp" was revoked/);
    assert.equal((await fetch(`${api}/api/builds`, { headers: bearer('reader') })).status, 200, 'others still work');
  });

  it('a token made with --expires-in works until then and is 401 after, without a restart', async () => {
    const bad = await cli([
      'tokens',
      'create',
      '--file',
      tokensFile,
      '--name',
      'x',
      '--role',
      'read',
      '--expires-in',
      '5y',
    ]);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /\[usage\] --expires-in must be a whole number of minutes, hours or days/);
    const short = await createToken(['--name', 'short', '--role', 'read', '--expires-in', '10m']);
    const headers = { authorization: `Bearer ${short}` };
    assert.equal((await fetch(`${api}/api/builds`, { headers })).status, 200, 'works before it expires');
    const listed = await cli(['tokens', 'list', '--file', tokensFile]);
    assert.match(listed.stdout, /^short\tread\t-\t\S+\tactive until \d{4}-/m);
    // Ten minutes pass: the file's expiry time is moved into the past, as the clock would.
    const file = JSON.parse(await readFile(tokensFile, 'utf8')) as {
      tokens: Array<{ name: string; expires?: string }>;
    };
    const entry = file.tokens.find((token) => token.name === 'short');
    assert.ok(entry?.expires !== undefined && Date.parse(entry.expires) > Date.now() + 9 * 60_000, entry?.expires);
    entry.expires = new Date(Date.now() - 1000).toISOString();
    await writeFile(tokensFile, JSON.stringify(file));
    const expired = await fetch(`${api}/api/builds`, { headers });
    assert.equal(expired.status, 401);
    assert.match(((await expired.json()) as { error: { message: string } }).error.message, /"short" expired at/);
    assert.match((await cli(['tokens', 'list', '--file', tokensFile])).stdout, /^short\tread\t-\t\S+\texpired /m);
  });

  it('refuses a foreign Host (DNS rebinding) with 421 and a foreign Origin or Referer (CSRF) with 403', async () => {
    const port = new URL(api).port;
    const raw = (method: string, path: string, headers: Record<string, string>, body = '') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const rebound = await raw('GET', '/api/builds', { host: `evil.example.com:${port}`, ...bearer('reader') });
    assert.equal(rebound.status, 421);
    assert.match(rebound.body, /"code":"forbidden"/);
    assert.equal((await raw('GET', '/api/builds', { host: `builds.example.org`, ...bearer('reader') })).status, 200);
    assert.equal((await raw('GET', '/api/builds', { host: `localhost:${port}`, ...bearer('reader') })).status, 200);

    const body = JSON.stringify({ project: 'projects/demo/hello' });
    const csrf = await raw(
      'POST',
      '/api/builds',
      { host: `127.0.0.1:${port}`, origin: 'https://evil.example.com', 'content-type': 'text/plain' },
      body,
    );
    assert.equal(csrf.status, 403, csrf.body);
    const withToken = await raw(
      'POST',
      '/api/builds',
      { host: `127.0.0.1:${port}`, referer: 'https://evil.example.com/x', ...json, ...bearer('ci') },
      body,
    );
    assert.equal(withToken.status, 403, 'a foreign Referer is refused even with a token');
    const sameOrigin = await raw(
      'POST',
      '/api/builds',
      { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, ...json, ...bearer('ci') },
      body,
    );
    assert.equal(sameOrigin.status, 202, 'the dashboard (same origin) may post');
  });

  it('the CLI sends BUILDFLEET_TOKEN, else the token saved for the API; a 401 says what to do', async () => {
    const credentialsFile = join(dir, 'credentials.json');
    const run = async (env: Record<string, string>) => {
      const started = startCli(['build', 'projects/demo/cli', '--api', api], {
        BUILDFLEET_CREDENTIALS_FILE: credentialsFile,
        ...env,
      });
      const result = await started.child;
      return { exitCode: result.exitCode, err: started.err() };
    };
    const anonymous = await run({});
    assert.equal(anonymous.exitCode, 1);
    assert.match(anonymous.err, /\[auth-required\].*BUILDFLEET_TOKEN/);
    const reader = await run({ BUILDFLEET_TOKEN: secrets.reader ?? '' });
    assert.equal(reader.exitCode, 1);
    assert.match(reader.err, /\[forbidden\].*HTTP 403/);
    assert.equal((await run({ BUILDFLEET_TOKEN: secrets.ci ?? '' })).exitCode, 0);
    await waitFor(() => submits.some((s) => s.project === 'projects/demo/cli'), 'the CLI submission');
    const cliSubmit = submits.find((s) => s.project === 'projects/demo/cli');
    assert.match(cliSubmit?.requestedBy ?? '', /@cli \(token ci\)$/, 'who the CLI says, and the token that vouches');
    await saveToken(credentialsFile, `${api}/`, secrets.ci ?? '');
    const saved = await run({});
    assert.equal(saved.exitCode, 0, saved.err);

    // graph asks the API with its own request: the token goes there too
    const graph = async (env: Record<string, string>) => {
      const started = startCli(['graph', '--api', api], {
        BUILDFLEET_CREDENTIALS_FILE: join(dir, 'none.json'),
        ...env,
      });
      await started.child;
      return started.err();
    };
    assert.match(await graph({}), /\[auth-required\]/);
    assert.match(await graph({ BUILDFLEET_TOKEN: secrets.reader ?? '' }), /\[sources-unconfigured\]/);
  });
});
