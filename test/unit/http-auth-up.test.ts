/**
 * `buildfleet up`'s local admin token: made on the first start and saved for the CLI (0600),
 * reused while the tokens file knows it, made again when it was revoked or lost; and the
 * banner's line naming the access mode.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { savedToken, tokenFor } from '../../cli/client/credentials.ts';
import { ensureAdminToken, LOCAL_ADMIN } from '../../cli/up/admin-token.ts';
import { InfoSettings } from '../../info-service/config.ts';
import { infoHttpAuth, isLoopbackHost } from '../../info-service/service.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { accessLine } from '../../cli/up/summary.ts';
import { findToken, readTokensFile, revokeToken, writeTokensFile } from '../../shared/http/index.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe("up's admin token", () => {
  it('is made once, saved for the CLI, reused, and made again once revoked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'buildfleet-up-token-'));
    dirs.push(dir);
    const tokensFile = join(dir, 'data', 'tokens.json');
    await mkdir(join(dir, 'data'));
    const credentialsFile = join(dir, 'config', 'buildfleet', 'credentials.json');
    const url = 'http://127.0.0.1:8080';

    const first = await ensureAdminToken({ tokensFile, url, credentialsFile });
    assert.equal(first.created, true);
    assert.equal(await savedToken(credentialsFile, `${url}/`), first.token);
    assert.equal((await stat(credentialsFile)).mode & 0o777, 0o600);
    assert.equal((await stat(tokensFile)).mode & 0o777, 0o600);
    const stored = findToken((await readTokensFile(tokensFile)).tokens, first.token);
    assert.equal(stored?.name, LOCAL_ADMIN);
    assert.equal(stored?.role, 'admin');

    const again = await ensureAdminToken({ tokensFile, url, credentialsFile });
    assert.deepEqual(again, { token: first.token, created: false });

    await writeTokensFile(tokensFile, revokeToken(await readTokensFile(tokensFile), LOCAL_ADMIN, new Date()));
    const renewed = await ensureAdminToken({ tokensFile, url, credentialsFile });
    assert.equal(renewed.created, true);
    assert.notEqual(renewed.token, first.token);
    const file = await readTokensFile(tokensFile);
    assert.equal(file.tokens.length, 1, 'the old local admin is replaced');
    assert.equal(await tokenFor({ credentialsFile }, url), renewed.token);
    assert.equal(await tokenFor({ credentialsFile, token: 'bft_env' }, url), 'bft_env', 'BUILDFLEET_TOKEN wins');
    assert.equal(await tokenFor({ credentialsFile }, 'http://127.0.0.1:9999'), undefined);
  });

  it('the banner names the mode, insecure in capitals', () => {
    assert.match(accessLine('submit', '/c', '/t'), /INSECURE LOCAL MODE \(--insecure-local\)/);
    assert.match(
      accessLine('read', '/c', '/t'),
      /reading without a token, submitting needs one; admin token saved .* \/c/,
    );
    assert.match(accessLine('none', '/c', '/t'), /every API request needs a token/);
  });
});

describe('anonymous submitting (--insecure-local)', () => {
  const logger = createLogger({ name: 'test', level: 'silent' });
  const settings = (host: string) =>
    loadConfig(InfoSettings, { env: {}, defaults: { http: { host }, auth: { anonymous: 'submit' } } });

  it('is allowed on a loopback address only, naming the key', () => {
    assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
    assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('10.0.0.1'));
    infoHttpAuth(settings('127.0.0.1'), logger);
    assert.throws(
      () => infoHttpAuth(settings('0.0.0.0'), logger),
      (error) => isBuildfleetError(error, 'config-invalid') && /info\.auth\.anonymous: submit/.test(error.message),
    );
  });
});
