/** The pure parts of the shared HTTP layer: request targets, content types, node's client errors, limits, statuses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import {
  clientErrorAnswer,
  compileHttpLimits,
  errorStatus,
  HttpError,
  HttpLimitDefaults,
  isJsonContentType,
  parseRequestTarget,
  statusOf,
} from '../../shared/http/index.ts';

function refusedWith(status: number, pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof HttpError && error.status === status && pattern.test(error.message);
}

describe('parseRequestTarget', () => {
  it('splits the path (still encoded) from the query', () => {
    const target = parseRequestTarget('/api/builds/a%2Fb?state=a,b&state=c&x=%20y');
    assert.equal(target.path, '/api/builds/a%2Fb');
    assert.deepEqual(target.query.getAll('state'), ['a,b', 'c']);
    assert.equal(target.query.get('x'), ' y');
    assert.equal(parseRequestTarget('/').path, '/');
    assert.equal(parseRequestTarget('/a#fragment').path, '/a');
  });

  it('takes the absolute form proxies send', () => {
    const target = parseRequestTarget('http://example.test:8080/api/builds?limit=1');
    assert.equal(target.path, '/api/builds');
    assert.equal(target.query.get('limit'), '1');
  });

  it('refuses bad percent-encoding and targets that are not paths with 400', () => {
    assert.throws(() => parseRequestTarget('/api/builds/%E0%A4%A'), refusedWith(400, /path is not valid/));
    assert.throws(() => parseRequestTarget('/a/%zz'), refusedWith(400, /path/));
    assert.throws(() => parseRequestTarget('/a?q=%E0%A4%A'), refusedWith(400, /query is not valid/));
    assert.throws(() => parseRequestTarget('*'), refusedWith(400, /must be a path/));
    assert.throws(() => parseRequestTarget('api/builds'), refusedWith(400, /must be a path/));
    assert.throws(() => parseRequestTarget('http://[bad/x'), refusedWith(400, /not a valid URL/));
  });
});

describe('isJsonContentType', () => {
  it('takes application/json and +json types, in UTF-8 when a charset is named', () => {
    for (const type of [
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/vnd.github+json',
    ]) {
      assert.equal(isJsonContentType(type), true, type);
    }
    for (const type of [
      undefined,
      '',
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'application/json; charset=iso-8859-1',
    ]) {
      assert.equal(isJsonContentType(type), false, String(type));
    }
  });
});

describe('clientErrorAnswer', () => {
  const overflow = (packet: string): Error & { code: string; rawPacket: Buffer } =>
    Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW', rawPacket: Buffer.from(packet) });

  it('tells an overlong request line (414) from overlong headers (431)', () => {
    assert.equal(clientErrorAnswer(overflow(`GET /${'x'.repeat(100)}`), 50).status, 414, 'the line never ended');
    assert.equal(clientErrorAnswer(overflow(`GET /${'x'.repeat(100)} HTTP/1.1\r\nhost: a\r\n`), 50).status, 414);
    assert.equal(clientErrorAnswer(overflow(`GET /short HTTP/1.1\r\nx-big: ${'y'.repeat(100)}`), 50).status, 431);
    assert.equal(clientErrorAnswer(overflow(`x-big: ${'y'.repeat(100)}`), 50).status, 431, 'a later packet');
    const bare = Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW' });
    assert.equal(clientErrorAnswer(bare, 50).status, 431);
  });

  it('answers timeouts with 408, chunk extensions with 413 and anything else with 400', () => {
    const error = (code: string): Error & { code: string } => Object.assign(new Error(code), { code });
    assert.equal(clientErrorAnswer(error('ERR_HTTP_REQUEST_TIMEOUT'), 50).status, 408);
    assert.equal(clientErrorAnswer(error('HPE_CHUNK_EXTENSIONS_OVERFLOW'), 50).status, 413);
    const invalid = clientErrorAnswer(error('HPE_INVALID_METHOD'), 50);
    assert.deepEqual(invalid, { status: 400, message: 'the request is not valid HTTP (HPE_INVALID_METHOD)' });
  });
});

describe('compileHttpLimits', () => {
  it('fills the defaults and keeps what is given', () => {
    assert.deepEqual(compileHttpLimits(), HttpLimitDefaults);
    assert.equal(compileHttpLimits({ maxBodyBytes: 10 }).maxBodyBytes, 10);
    assert.equal(compileHttpLimits({ maxBodyBytes: undefined }).maxBodyBytes, HttpLimitDefaults.maxBodyBytes);
  });

  it('keeps headersTimeoutMs within requestTimeoutMs (node refuses otherwise)', () => {
    assert.equal(compileHttpLimits({ requestTimeoutMs: 1000 }).headersTimeoutMs, 1000);
  });

  it('names the key of a limit that is not a positive whole number', () => {
    assert.throws(
      () => compileHttpLimits({ maxUrlBytes: 0 }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && error.context['key'] === 'maxUrlBytes',
    );
    assert.throws(() => compileHttpLimits({ maxHeaderBytes: 1.5 }), /maxHeaderBytes/);
  });
});

describe('error statuses', () => {
  it('maps codes to statuses in one table, and an HttpError keeps its own', () => {
    assert.equal(statusOf('request-invalid'), 400);
    assert.equal(statusOf('webhook-signature-invalid'), 401);
    assert.equal(statusOf('build-unknown'), 404);
    assert.equal(statusOf('sources-unconfigured'), 503);
    assert.equal(statusOf('internal'), 500);
    assert.equal(errorStatus(new BuildfleetError('not-found', 'x')), 404);
    assert.equal(errorStatus(new HttpError(415, 'request-invalid', 'x')), 415);
  });
});
