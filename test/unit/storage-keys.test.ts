import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import {
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
  compareKeys,
  keyProblem,
  validateKey,
  validatePrefix,
} from '../../shared/storage/keys.ts';

function assertKeyInvalid(run: () => unknown, mentions: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isBuildfleetError(error, 'key-invalid'), `expected key-invalid, got ${String(error)}`);
    assert.ok(error.message.includes(mentions), error.message);
    assert.equal(error.retriable, false);
    return true;
  });
}

describe('artifact keys', () => {
  it('accepts relative, slash-separated keys', () => {
    for (const key of [
      'a',
      'builds/42/attempt-1/hello_1.0_amd64.deb',
      'repos/apt/dists/bookworm/InRelease',
      'a.b/..c/...',
      'with space/and-ünïcode ✓',
      '.hidden/.file',
      'x'.repeat(MAX_SEGMENT_BYTES),
    ]) {
      assert.equal(keyProblem(key), undefined, key);
      assert.equal(validateKey(key), key);
    }
  });

  it('rejects keys that could leave a store root or name nothing', () => {
    const cases: [string, string][] = [
      ['', 'empty'],
      ['../x', '".." segment'],
      ['a/../../b', '".." segment'],
      ['..', '".." segment'],
      ['a/..', '".." segment'],
      ['./a', '"." segment'],
      ['a/./b', '"." segment'],
      ['/abs', 'starts with "/"'],
      ['/', 'starts with "/"'],
      ['a//b', 'empty segment'],
      ['a/', 'empty segment'],
      ['a\\b', 'backslash'],
      ['..\\..\\etc', 'backslash'],
      ['a\0b', 'control character'],
      ['line\nbreak', 'control character'],
      ['del\u007f', 'control character'],
      ['a/.~tmp', 'starting with ".~"'],
      ['.~x', 'starting with ".~"'],
    ];
    for (const [key, mentions] of cases) {
      assert.ok(keyProblem(key)?.includes(mentions), `${JSON.stringify(key)}: ${String(keyProblem(key))}`);
      assertKeyInvalid(() => validateKey(key), mentions);
    }
  });

  it('limits segments to a file name and keys to S3 length, counted in UTF-8 bytes', () => {
    assertKeyInvalid(() => validateKey('x'.repeat(MAX_SEGMENT_BYTES + 1)), `longer than ${MAX_SEGMENT_BYTES}`);
    // 128 two-byte characters: 128 characters but 256 bytes.
    assertKeyInvalid(() => validateKey('é'.repeat(128)), `longer than ${MAX_SEGMENT_BYTES}`);
    const segment = 'y'.repeat(200);
    const longKey = Array.from({ length: 6 }, () => segment).join('/');
    assert.ok(longKey.length > MAX_KEY_BYTES);
    assertKeyInvalid(() => validateKey(longKey), `longer than ${MAX_KEY_BYTES}`);
  });

  it('rejects what is not a string at run time', () => {
    assertKeyInvalid(() => validateKey(42 as unknown as string), 'not a string');
    assertKeyInvalid(() => validatePrefix(undefined as unknown as string), 'not a string');
  });
});

describe('artifact key prefixes', () => {
  it('accepts empty, key-like and directory-like prefixes', () => {
    for (const prefix of ['', 'builds', 'builds/', 'builds/4', 'builds/42/']) {
      assert.equal(validatePrefix(prefix), prefix);
    }
  });

  it('rejects prefixes a key could not start with', () => {
    for (const [prefix, mentions] of [
      ['/', 'starts with "/"'],
      ['../', '".." segment'],
      ['a//', 'empty segment'],
      ['a/../', '".." segment'],
      ['/abs', 'starts with "/"'],
    ] as const) {
      assertKeyInvalid(() => validatePrefix(prefix), mentions);
    }
  });
});

describe('key order', () => {
  it('orders by UTF-8 bytes as S3 does, not by UTF-16 code units', () => {
    const astral = 'k/\u{1F600}'; // UTF-16 D83D.., UTF-8 F0 9F..
    const highBmp = 'k/\uFF21'; // UTF-16 FF21, UTF-8 EF BC A1
    assert.ok(astral < highBmp, 'JavaScript puts the astral character first');
    assert.ok(compareKeys(highBmp, astral) < 0);
    assert.deepEqual(['a/x', 'a-b', 'a'].sort(compareKeys), ['a', 'a-b', 'a/x']);
    assert.equal(compareKeys('same', 'same'), 0);
  });
});
