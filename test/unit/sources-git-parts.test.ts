import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { KeyedLock } from '../../shared/sources/git/keyed-lock.ts';
import {
  looksLikeShortCommitId,
  lsRemotePatterns,
  parseLsRemote,
  pickRef,
} from '../../shared/sources/git/remote-refs.ts';
import { isFullCommitId, mirrorDirName, normaliseRepoUrl, redactCredentials } from '../../shared/sources/index.ts';
import { deferred } from '../harness/wait.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);

describe('ls-remote ref selection', () => {
  const listing = [
    `${A}\tHEAD`,
    `${A}\trefs/heads/main`,
    `${B}\trefs/heads/release`,
    `${C}\trefs/tags/release`,
    `${D}\trefs/tags/v1`,
    `${B}\trefs/tags/v1^{}`,
    'garbage line',
  ].join('\n');
  const refs = parseLsRemote(listing);

  it('peels annotated tags to their commit and prefers tags over branches, as git does', () => {
    assert.equal(pickRef(refs, 'v1'), B);
    assert.equal(pickRef(refs, 'release'), C);
    assert.equal(pickRef(refs, 'refs/heads/release'), B);
    assert.equal(pickRef(refs, 'heads/release'), B);
    assert.equal(pickRef(refs, 'HEAD'), A);
    assert.equal(pickRef(refs, 'main'), A);
    assert.equal(pickRef(refs, 'nope'), undefined);
  });

  it('asks ls-remote for the peeled forms too', () => {
    assert.deepEqual(lsRemotePatterns('v1'), [
      'refs/v1',
      'refs/v1^{}',
      'refs/tags/v1',
      'refs/tags/v1^{}',
      'refs/heads/v1',
      'refs/heads/v1^{}',
    ]);
    assert.deepEqual(lsRemotePatterns('HEAD'), ['HEAD']);
  });

  it('tells short commit ids from names', () => {
    assert.ok(looksLikeShortCommitId('deadbeef'));
    assert.ok(!looksLikeShortCommitId('abc'));
    assert.ok(!looksLikeShortCommitId('main'));
    assert.ok(!looksLikeShortCommitId(A));
  });
});

describe('repo URLs', () => {
  it('accepts only full lower-case commit ids', () => {
    assert.ok(isFullCommitId(A));
    assert.ok(!isFullCommitId(A.toUpperCase()));
    assert.ok(!isFullCommitId(A.slice(1)));
    assert.ok(!isFullCommitId('e'.repeat(64)));
  });

  it('turns paths into file:// URLs and removes credentials for display', () => {
    assert.equal(normaliseRepoUrl('/srv/git/sources'), 'file:///srv/git/sources');
    assert.equal(normaliseRepoUrl(' https://git.example.com/sources.git/ '), 'https://git.example.com/sources.git');
    assert.equal(
      redactCredentials('fatal: unable to access https://bot:tok3n@git.example.com/x.git and ssh://git@host/y'),
      'fatal: unable to access https://***@git.example.com/x.git and ssh://***@host/y',
    );
  });

  it('names mirror directories readably and uniquely, without credentials', () => {
    const name = mirrorDirName('https://bot:tok3n@git.example.com/team/sources.git');
    assert.match(name, /^git\.example\.com-team-sources-[0-9a-f]{16}$/);
    assert.notEqual(name, mirrorDirName('https://git.example.com/team/sources.git'));
    assert.equal(mirrorDirName('/srv/sources'), mirrorDirName('file:///srv/sources'));
    assert.match(mirrorDirName('file:///'), /^repo-[0-9a-f]{16}$/);
    assert.ok(mirrorDirName(`https://h/${'x'.repeat(300)}`).length < 70);
  });
});

describe('KeyedLock', () => {
  it('runs sections of one key one after another and other keys beside them', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const release = deferred();
    const firstA = lock.run('a', async () => {
      order.push('a1 start');
      await release.promise;
      order.push('a1 end');
    });
    const secondA = lock.run('a', async () => {
      order.push('a2');
    });
    await lock.run('b', async () => {
      order.push('b');
    });
    assert.deepEqual(order, ['a1 start', 'b'], 'b ran while a1 held the lock; a2 waits');
    release.resolve();
    await Promise.all([firstA, secondA]);
    assert.deepEqual(order, ['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('keeps the queue going after a failed section', async () => {
    const lock = new KeyedLock();
    await assert.rejects(
      lock.run('k', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await lock.run('k', async () => 42), 42);
  });

  it('gives up waiting when aborted, without running the section or letting the next one jump ahead', async () => {
    const lock = new KeyedLock();
    const release = deferred();
    const order: string[] = [];
    const holder = lock.run('k', async () => {
      await release.promise;
      order.push('holder');
    });
    const controller = new AbortController();
    const waiting = lock.run('k', async () => order.push('aborted waiter ran'), controller.signal);
    const next = lock.run('k', async () => order.push('next'));
    controller.abort(new Error('cancelled by user'));
    await assert.rejects(
      waiting,
      (error: unknown) => isBuildfleetError(error, 'aborted') && /cancelled by user/.test(error.message),
    );
    assert.deepEqual(order, []);
    release.resolve();
    await Promise.all([holder, next]);
    assert.deepEqual(order, ['holder', 'next']);
  });
});
