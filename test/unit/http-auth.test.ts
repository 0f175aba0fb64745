/**
 * HTTP identities without a server: tokens (shape, hash at rest, lookup, add and revoke), roles
 * and project prefixes, the tokens file re-read on change, and the Host/Origin policy.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import {
  addToken,
  authorize,
  authorizeProject,
  checkHostAndOrigin,
  compileHttpLimits,
  createRequestDispatcher,
  createHttpAuth,
  createTokenSource,
  findToken,
  hashTokenSecret,
  hostPolicy,
  parseTokenLifetime,
  parseTokensFile,
  projectCovered,
  readTokensFile,
  revokeToken,
  tokenExpired,
  updateTokensFile,
  writeTokensFile,
  type Principal,
} from '../../shared/http/index.ts';
import { errorStatus } from '../../shared/http/respond.ts';

const now = new Date('2026-01-02T03:04:05Z');
const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

function statusOfThrown(work: () => void): number | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    assert.ok(isBuildfleetError(error), String(error));
    return errorStatus(error);
  }
}

function request(headers: Record<string, string>, method = 'GET'): IncomingMessage {
  return { headers, method } as unknown as IncomingMessage;
}

describe('tokens', () => {
  it('are random, shown once, kept as SHA-256 only', () => {
    const { file, secret } = addToken(
      { tokens: [] },
      { name: 'ci', role: 'submit', projectPrefixes: ['projects/demo'] },
      now,
    );
    assert.match(secret, /^bft_[A-Za-z0-9_-]{43}$/);
    const [token] = file.tokens;
    assert.equal(token?.sha256, hashTokenSecret(secret));
    assert.ok(!JSON.stringify(file).includes(secret), 'the secret is not in the file');
    assert.equal(findToken(file.tokens, secret)?.name, 'ci');
    // one character changed (the last one is random: 'A' or not)
    const changed = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(findToken(file.tokens, changed), undefined);
    const other = addToken(file, { name: 'reader', role: 'read' }, now);
    assert.notEqual(other.secret, secret);
    assert.equal(findToken(other.file.tokens, other.secret)?.name, 'reader');
  });

  it('expire when asked: refused after their time, which must lie ahead; lifetimes are 90m, 12h, 30d', async () => {
    const later = new Date(now.getTime() + 60_000);
    const { file, secret } = addToken({ tokens: [] }, { name: 'short', role: 'read', expires: later }, now);
    assert.equal(file.tokens[0]?.expires, later.toISOString());
    assert.equal(tokenExpired(file.tokens[0] ?? { expires: '' }, now), false);
    assert.equal(tokenExpired({ expires: later.toISOString() }, later), true);
    assert.equal(tokenExpired({ expires: 'soon' }, now), true, 'an expiry that is no time fails closed');
    assert.equal(tokenExpired({}, later), false, 'no expiry: never');
    assert.throws(() => addToken({ tokens: [] }, { name: 'past', role: 'read', expires: now }, now), /in the future/);
    // the service's clock is the real one: a token that expired in 2026-01 is refused now
    const auth = createHttpAuth({ anonymous: 'none', tokens: createTokenSource({ inline: file.tokens }) });
    await assert.rejects(auth.authenticate(request({ authorization: `Bearer ${secret}` })), /"short" expired at/);
    assert.equal(parseTokenLifetime('90m'), 90 * 60_000);
    assert.equal(parseTokenLifetime('12h'), 12 * 3_600_000);
    assert.equal(parseTokenLifetime('30d'), 30 * 86_400_000);
    for (const bad of ['0d', '1w', '-1d', '1.5h', 'd', ''])
      assert.throws(() => parseTokenLifetime(bad), /--expires-in/);
  });

  it('refuse a name taken, a bad name, and project prefixes on other roles', () => {
    const { file } = addToken({ tokens: [] }, { name: 'ci', role: 'read' }, now);
    assert.throws(() => addToken(file, { name: 'ci', role: 'admin' }, now), /a token named "ci" exists/);
    assert.throws(() => addToken(file, { name: 'bad name', role: 'admin' }, now), /token name/);
    assert.throws(
      () => addToken(file, { name: 'r', role: 'read', projectPrefixes: ['projects/'] }, now),
      /project prefixes are for the submit role/,
    );
  });

  it('revoke keeps the entry with its time; an unknown name is not-found', () => {
    const { file } = addToken({ tokens: [] }, { name: 'ci', role: 'read' }, now);
    const revoked = revokeToken(file, 'ci', now);
    assert.equal(revoked.tokens[0]?.revoked, now.toISOString());
    assert.throws(
      () => revokeToken(file, 'nobody', now),
      (error) => isBuildfleetError(error, 'not-found'),
    );
  });

  it('files are checked and name the bad field', () => {
    assert.throws(
      () => parseTokensFile('{"tokens":[{"name":"a","role":"root","sha256":"00"}]}', 'f.json'),
      /f\.json: \/tokens\/0\/role/,
    );
    assert.throws(() => parseTokensFile('nope', 'f.json'), /not JSON/);
  });

  it('are written atomically with mode 0600 and re-read when the file changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'buildfleet-tokens-'));
    dirs.push(dir);
    const path = join(dir, 'tokens.json');
    const made = addToken({ tokens: [] }, { name: 'ci', role: 'admin' }, now);
    await writeTokensFile(path, made.file);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readTokensFile(path), made.file);

    const auth = createHttpAuth({ anonymous: 'none', tokens: createTokenSource({ file: path }) });
    const bearer = request({ authorization: `Bearer ${made.secret}` });
    assert.equal((await auth.authenticate(bearer)).name, 'ci');
    await writeTokensFile(path, revokeToken(made.file, 'ci', now));
    await assert.rejects(auth.authenticate(bearer), /the token "ci" was revoked/);
    // a file that no longer parses: no tokens (fail closed)
    await writeFile(path, '{');
    await assert.rejects(auth.authenticate(bearer), /not known/);
    assert.match(await readFile(path, 'utf8'), /^\{$/);
  });
});

describe('tokens file updates', () => {
  it('are serialized by a lock: concurrent creates keep every token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'buildfleet-tokens-lock-'));
    dirs.push(dir);
    const path = join(dir, 'tokens.json');
    await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        updateTokensFile(path, (file) => addToken(file, { name: `t${n}`, role: 'read' }, now).file),
      ),
    );
    assert.equal((await readTokensFile(path)).tokens.length, 8);
    await assert.rejects(stat(`${path}.lock`), /ENOENT/, 'the lock is gone');
  });
});

describe('principals and roles', () => {
  const noTokens = createTokenSource({});
  it('anonymous is what the setting says; a malformed or unknown token is 401 even where anonymous may read', async () => {
    const readers = createHttpAuth({ anonymous: 'read', tokens: noTokens });
    assert.equal((await readers.authenticate(request({}))).role, 'read');
    assert.equal(
      (await createHttpAuth({ anonymous: 'none', tokens: noTokens }).authenticate(request({}))).role,
      undefined,
    );
    await assert.rejects(readers.authenticate(request({ authorization: 'Basic abc' })), /Bearer <token>/);
    await assert.rejects(readers.authenticate(request({ authorization: `Bearer bft_${'x'.repeat(43)}` })), /not known/);
  });

  it('read < submit < admin: 401 without a token, 403 with one too weak', () => {
    const anonymous: Principal = { kind: 'anonymous', name: 'anonymous', role: undefined };
    const reader: Principal = { kind: 'token', name: 'r', role: 'read' };
    const admin: Principal = { kind: 'token', name: 'a', role: 'admin' };
    assert.equal(
      statusOfThrown(() => authorize(anonymous, 'public')),
      undefined,
    );
    assert.equal(
      statusOfThrown(() => authorize(anonymous, 'read')),
      401,
    );
    assert.equal(
      statusOfThrown(() => authorize(reader, 'read')),
      undefined,
    );
    assert.equal(
      statusOfThrown(() => authorize(reader, 'submit')),
      403,
    );
    assert.equal(
      statusOfThrown(() => authorize(admin, 'submit')),
      undefined,
    );
    assert.equal(
      statusOfThrown(() => authorize({ ...anonymous, role: 'read' }, 'submit')),
      401,
    );
  });

  it('submit covers its project prefixes by whole path segments; admin covers all', () => {
    assert.ok(projectCovered(['projects/demo/'], 'projects/demo/hello-deb'));
    assert.ok(projectCovered(['projects/demo'], 'projects/demo'));
    assert.ok(!projectCovered(['projects/demo'], 'projects/demo-evil/x'));
    assert.ok(projectCovered(undefined, 'anything'));
    const ci: Principal = { kind: 'token', name: 'ci', role: 'submit', projectPrefixes: ['projects/demo'] };
    assert.equal(
      statusOfThrown(() => authorizeProject(ci, 'projects/demo/hello')),
      undefined,
    );
    assert.throws(
      () => authorizeProject(ci, 'projects/other/x'),
      /may not submit or cancel builds of project projects\/other\/x/,
    );
    assert.equal(
      statusOfThrown(() => authorizeProject({ kind: 'token', name: 'a', role: 'admin' }, 'x/y')),
      undefined,
    );
    assert.equal(
      statusOfThrown(() => authorizeProject({ kind: 'token', name: 'r', role: 'read' }, 'x/y')),
      403,
    );
  });
});

describe('Host and Origin', () => {
  const policy = hostPolicy({ publicUrls: ['https://builds.example.org/repos'], listenHost: '0.0.0.0' });
  const probe = (headers: Record<string, string>, method = 'GET') =>
    statusOfThrown(() => checkHostAndOrigin(policy, request(headers, method)));

  it('accepts the public name, localhost and IP literals; refuses other names (DNS rebinding) with 421', () => {
    assert.equal(probe({ host: 'builds.example.org' }), undefined);
    assert.equal(probe({ host: 'BUILDS.example.org:443' }), undefined);
    assert.equal(probe({ host: 'localhost:8080' }), undefined);
    assert.equal(probe({ host: '10.1.2.3:8080' }), undefined);
    assert.equal(probe({ host: '[::1]:8080' }), undefined);
    assert.equal(probe({ host: 'evil.example.com:8080' }), 421);
    assert.equal(probe({ host: 'bad host' }), 400);
    const anyHost = hostPolicy({ publicUrls: [], listenHost: '127.0.0.1', extraNames: ['*'] });
    assert.equal(
      statusOfThrown(() => checkHostAndOrigin(anyHost, request({ host: 'evil.example.com' }))),
      undefined,
    );
  });

  it('refuses a POST from a foreign Origin or Referer (CSRF); same origin, configured origins and none pass', () => {
    const host = { host: '127.0.0.1:8080' };
    assert.equal(probe({ ...host, origin: 'http://127.0.0.1:8080' }, 'POST'), undefined);
    assert.equal(probe({ ...host, origin: 'https://builds.example.org' }, 'POST'), undefined);
    assert.equal(probe(host, 'POST'), undefined);
    assert.equal(probe({ ...host, origin: 'https://evil.example.com' }, 'POST'), 403);
    assert.equal(probe({ ...host, origin: 'http://127.0.0.1:3000' }, 'POST'), 403, 'another port is another origin');
    assert.equal(probe({ ...host, origin: 'null' }, 'POST'), 403);
    assert.equal(probe({ ...host, referer: 'https://evil.example.com/page' }, 'DELETE'), 403);
    assert.equal(probe({ ...host, origin: 'https://evil.example.com' }, 'GET'), undefined, 'reads are not checked');
  });
});

describe('routes on a server with auth', () => {
  it('must each declare their access', () => {
    const auth = createHttpAuth({ anonymous: 'none', tokens: createTokenSource({}) });
    const handler = (): void => undefined;
    assert.throws(
      () =>
        createRequestDispatcher({
          name: 'test',
          limits: compileHttpLimits(),
          auth,
          routes: [
            { method: 'GET', path: '/a', access: 'read', handler },
            { method: 'GET', path: '/b', handler },
          ],
        }),
      (error) => isBuildfleetError(error, 'config-invalid') && /\/b declares no access/.test(error.message),
    );
  });
});
