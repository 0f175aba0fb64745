/**
 * The front door's rules (issue 14, part D): the limits of the message schemas hold on the HTTP
 * API (submitOf) and on the bus (decodeMessage) alike, the former 202-then-dead-letter inputs are
 * refused at once naming the field, a megabyte-long name costs a length check, and a dead letter
 * never exceeds its size limit.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { submitOf } from '../../info-service/http/requests.ts';
import { deadletterOf, prefixWithin } from '../../shared/bus/dead-letter.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import {
  DeadletterLimits,
  InputLimits,
  buildKeyOf,
  decodeMessage,
  isMessage,
  type BuildSubmit,
} from '../../shared/messages/index.ts';

const now = new Date('2026-01-02T03:04:05.000Z');
const newId = () => 'generated-id';

function busSubmit(fields: Record<string, unknown>): unknown {
  return { v: 1, type: 'build.submit', submitId: 's-1', project: 'projects/a/b', ...fields };
}

/** The API's refusal of `body`: its message and the field its context names. */
function apiRefusal(body: unknown): { message: string; field: unknown } {
  try {
    submitOf(body, newId, now);
  } catch (error) {
    assert.ok(isBuildfleetError(error, 'request-invalid'), String(error));
    return { message: error.message, field: error.context.field };
  }
  assert.fail(`accepted ${JSON.stringify(body).slice(0, 200)}`);
}

/** The bus's refusal of `value`: the dead-letter reason and the field. */
function busRefusal(value: unknown): { message: string; field: unknown } {
  try {
    decodeMessage('build.submit', value);
  } catch (error) {
    assert.ok(isBuildfleetError(error, 'message-invalid'), String(error));
    return { message: error.message, field: error.context.field };
  }
  assert.fail(`decoded ${JSON.stringify(value).slice(0, 200)}`);
}

/** The inputs that got 202 and were then dead-lettered by the scheduler (docs/security.md, part D). */
const formerDeadLetters: Array<[string, Record<string, unknown>, string]> = [
  ['a ".." segment', { project: '../etc/passwd' }, 'project'],
  ['an absolute path', { project: '/etc/passwd' }, 'project'],
  ['an empty segment (trailing "/")', { project: 'projects/', scope: 'all' }, 'project'],
  ['an "@" in the project', { project: 'projects/a@b' }, 'project'],
  ['a backslash in the project', { project: 'projects\\a' }, 'project'],
  ['"." as the project of scope all', { project: '.', scope: 'all' }, 'project'],
  [
    'a target arch with a dot',
    { project: 'projects/a', targets: [{ dist: 'bookworm', arch: 'x86.64' }] },
    'targets[0].arch',
  ],
];

describe('the submission rules, the same on the API and the bus', () => {
  for (const [what, fields, field] of formerDeadLetters) {
    it(`refuses ${what} naming ${field}`, () => {
      const api = apiRefusal(fields);
      assert.equal(api.field, field);
      assert.match(api.message, new RegExp(`field "${field.replace(/[[\].]/g, '\\$&')}"`));
      const bus = busRefusal(busSubmit(fields));
      assert.equal(bus.field, field);
      assert.equal(bus.message, api.message);
    });
  }

  it('limits lengths: project 255, ref 255, submitId 128 from clients and the bus room for change: ids', () => {
    const long = (n: number) => `p${'x'.repeat(n - 1)}`;
    assert.equal(submitOf({ project: long(255) }, newId, now).project.length, 255);
    assert.equal(apiRefusal({ project: long(256) }).field, 'project');
    assert.match(apiRefusal({ project: long(256) }).message, /at most 255 characters/);
    assert.equal(apiRefusal({ project: 'p', ref: long(256) }).field, 'ref');
    assert.equal(submitOf({ project: 'p', submitId: long(128) }, newId, now).submitId.length, 128);
    assert.equal(apiRefusal({ project: 'p', submitId: long(129) }).field, 'submitId');
    assert.equal(apiRefusal({ project: 'p', targets: [{ dist: long(65), arch: 'a' }] }).field, 'targets[0].dist');
    const many = Array.from({ length: InputLimits.targets + 1 }, () => ({ dist: 'd', arch: 'a' }));
    assert.equal(apiRefusal({ project: 'p', targets: many }).field, 'targets');
    assert.equal(apiRefusal({ project: 'p', requestedBy: long(InputLimits.textChars + 1) }).field, 'requestedBy');
    // The scheduler's own ids are longer than a client's and pass on the bus.
    const change = `change:${long(255)}@${'a'.repeat(64)}`;
    assert.ok(isMessage('build.submit', busSubmit({ submitId: change, project: long(255) })));
    assert.equal(busRefusal(busSubmit({ submitId: `${change}x` })).field, 'submitId');
  });

  it('refuses from clients what only the scheduler sends, and characters that could be options or lines', () => {
    const reserved = apiRefusal({ project: 'p', submitId: 'change:p@abc' });
    assert.equal(reserved.field, 'submitId');
    assert.match(reserved.message, /change:/);
    assert.equal(apiRefusal({ project: 'p', ref: '--upload-pack=x' }).field, 'ref');
    assert.equal(apiRefusal({ project: 'p', ref: 'main..evil' }).field, 'ref');
    assert.equal(apiRefusal({ project: 'p', submitId: 'a b' }).field, 'submitId');
    assert.equal(apiRefusal({ project: 'projects/-rf' }).field, 'project');
    assert.equal(apiRefusal({ project: 'p', requestedBy: 'me\nforged: line' }).field, 'requestedBy');
    assert.equal(apiRefusal({ project: 'p', targets: [{ dist: 'a/b', arch: 'x' }] }).field, 'targets[0].dist');
    assert.equal(apiRefusal({ project: 'p', dist: 'bookworm' }).field, 'dist');
    assert.equal(busRefusal(busSubmit({ dist: 'bookworm' })).field, 'dist');
    // What clients send every day still passes.
    const ok: BuildSubmit = submitOf(
      { project: 'projects/demo/hello-deb', ref: 'refs/heads/main', submitId: 'push-3f78-hello', requestedBy: 'me' },
      newId,
      now,
    );
    assert.equal(ok.ref, 'refs/heads/main');
    assert.equal(submitOf({ project: 'projects', scope: 'all', dist: 'leap15.6' }, newId, now).dist, 'leap15.6');
  });

  it('never disagrees with the keys: a project the schema takes makes a build key, and the other way round', () => {
    const samples = [
      'p',
      'projects/demo/hello-deb',
      'a/b.c/d+e_f-g',
      '_x/y',
      '.hidden',
      'a/.b',
      'a//b',
      'a/',
      '/a',
      'a/..',
      'a@b',
      'a\\b',
      'a b',
      'a/-b',
      'ü',
      'x'.repeat(255),
      'x'.repeat(256),
    ];
    for (const project of samples) {
      const schema = isMessage('build.submit', busSubmit({ project }));
      let key = true;
      try {
        buildKeyOf(project, { dist: 'bookworm', arch: 'x86_64' });
      } catch {
        key = false;
      }
      assert.equal(key, schema, `project ${JSON.stringify(project.slice(0, 40))}: key ${key}, schema ${schema}`);
    }
  });

  it('refuses a megabyte-long project on the bus with a length check, not a scan', () => {
    const value = busSubmit({ project: `projects/${'a'.repeat(1024 * 1024)}` });
    const started = performance.now();
    const refusal = busRefusal(value);
    const ms = performance.now() - started;
    assert.equal(refusal.field, 'project');
    assert.ok(refusal.message.length < 200, refusal.message.slice(0, 300));
    assert.ok(ms < 100, `took ${ms} ms`);
  });
});

describe('dead letters', () => {
  const record = { topic: 't.submit', partition: 0, offset: '7', key: 'k' };
  const context = { reason: 'refused', group: 'g', at: now };

  it('keep a value that fits whole', () => {
    const letter = deadletterOf({ ...record, value: Buffer.from('{"a":1}') }, context);
    assert.equal(letter.payload, '{"a":1}');
    assert.equal(letter.payloadTruncated, undefined);
    assert.ok(isMessage('deadletter', letter));
  });

  it('never exceed the size limit: the start of the payload, its length and SHA-256, a cut reason and key', () => {
    // Quotes and control characters take 2 and 6 bytes in JSON: the worst case for the estimate.
    const text = `"\u0001é😀\n`.repeat(300_000);
    const value = Buffer.from(text);
    const letter = deadletterOf(
      { ...record, key: 'k'.repeat(1024 * 1024), value },
      { ...context, reason: `bad: ${'r'.repeat(1024 * 1024)}` },
    );
    const size = Buffer.byteLength(JSON.stringify(letter));
    assert.ok(size <= DeadletterLimits.maxBytes, `${size} bytes`);
    assert.ok(size > DeadletterLimits.maxBytes - 16, `the payload fills the room (${size} bytes)`);
    assert.equal(letter.payloadTruncated, true);
    assert.equal(letter.payloadBytes, value.length);
    assert.equal(letter.payloadSha256, createHash('sha256').update(value).digest('hex'));
    assert.ok(text.startsWith(letter.payload));
    assert.ok((letter.key ?? '').length <= DeadletterLimits.keyChars);
    assert.ok(letter.reason.length <= DeadletterLimits.reasonChars && letter.reason.endsWith('...'));
    assert.ok(isMessage('deadletter', letter));
  });

  it('measure JSON bytes exactly when cutting', () => {
    for (const text of ['abc', '"\\', '\u0000\n', 'é€😀', '\ud800x']) {
      const bytes = Buffer.byteLength(JSON.stringify(text)) - 2;
      assert.equal(prefixWithin(text, bytes), text, JSON.stringify(text));
      assert.ok(prefixWithin(text, bytes - 1).length < text.length, JSON.stringify(text));
    }
  });
});
