import assert from 'node:assert/strict';
import { chmod, lstat, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { createSourceMirror, type SourceRepo } from '../../shared/sources/index.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from '../harness/git.ts';
import { freePort } from '../harness/ports.ts';
import { deferred, waitFor } from '../harness/wait.ts';
import { rejection } from '../harness/errors.ts';

const logger = createLogger({ name: 'test', level: 'silent' });

describe('source mirror (git)', { timeout: 60_000 }, () => {
  let repos: TestGitRepos;
  let origin: TestGitRepo;
  let first: string;
  let second: string;
  let third: string;

  /** A mirror with its own empty cache, so each test sees the fetches it causes. */
  async function freshMirror(): Promise<{ sources: SourceRepo; cacheDir: string }> {
    const cacheDir = await repos.tempDir('cache');
    return { sources: createSourceMirror({ cacheDir, logger }), cacheDir };
  }

  before(async () => {
    repos = await testGitRepos();
    origin = await repos.create('origin');
    first = await origin.commitFiles({ 'projects/a/file.txt': 'one\n', README: 'readme\n' }, 'first');
    second = await origin.commitFiles({ 'projects/a/file.txt': 'two\n', 'projects/b/new.txt': 'b\n' }, 'second');
    await origin.remove('README');
    third = await origin.commitFiles({ 'projects/a/file.txt': 'three\n' }, 'third');
  });
  after(async () => {
    await repos.cleanup();
  });

  it('checks out an older commit exactly, without a .git directory, and reuses the mirror', async () => {
    const { sources, cacheDir } = await freshMirror();
    const dest = join(await repos.tempDir('work'), 'src');
    const result = await sources.checkout({ url: origin.url, commit: first, dest });
    assert.equal(result.commit, first);
    assert.equal(result.dir, dest);
    assert.equal(result.fetched, true);
    assert.ok(result.durationMs >= 0);
    assert.equal(await readFile(join(dest, 'projects/a/file.txt'), 'utf8'), 'one\n');
    assert.equal(await readFile(join(dest, 'README'), 'utf8'), 'readme\n');
    assert.deepEqual((await readdir(dest)).sort(), ['README', 'projects']);
    assert.deepEqual(await readdir(join(dest, 'projects')), ['a']);
    // The exact commit was fetched alone (depth 1), not the whole repo.
    const [mirrorName = ''] = await readdir(cacheDir);
    assert.match(mirrorName, /origin-1-[0-9a-f]{16}$/);
    const mirrorGit = async (...args: string[]) =>
      (await runCommand('git', ['-C', join(cacheDir, mirrorName), ...args])).stdout.trim();
    assert.equal(await mirrorGit('rev-parse', '--is-shallow-repository'), 'true');
    assert.equal(await mirrorGit('for-each-ref', '--format=%(refname)'), `refs/buildfleet/commits/${first}`);

    const again = await sources.checkout({ url: origin.url, commit: first, dest: await repos.tempDir('work') });
    assert.equal(again.fetched, false, 'a commit already in the mirror is not fetched again');
  });

  it('runs concurrent checkouts of different commits from one mirror', async () => {
    const { sources } = await freshMirror();
    const commits = [first, second, third, second, first];
    const dests = await Promise.all(commits.map(() => repos.tempDir('parallel')));
    const results = await Promise.all(
      commits.map((commit, index) => sources.checkout({ url: origin.url, commit, dest: dests[index] ?? '' })),
    );
    const expected: Record<string, string> = { [first]: 'one\n', [second]: 'two\n', [third]: 'three\n' };
    for (const [index, result] of results.entries()) {
      assert.equal(result.commit, commits[index]);
      assert.equal(await readFile(join(result.dir, 'projects/a/file.txt'), 'utf8'), expected[result.commit]);
    }
    assert.equal(results.filter((result) => result.fetched).length, 3, 'each distinct commit is fetched once');
  });

  it('fails with source-commit-missing naming the URL and the commit', async () => {
    const { sources } = await freshMirror();
    const missing = 'a'.repeat(40);
    const dest = join(await repos.tempDir('work'), 'src');
    const error = await rejection(sources.checkout({ url: origin.url, commit: missing, dest }));
    assert.equal(error.code, 'source-commit-missing');
    assert.equal(error.retriable, false);
    assert.match(error.message, new RegExp(missing));
    assert.ok(error.message.includes(origin.url), error.message);
    await assert.rejects(stat(dest), { code: 'ENOENT' }, 'nothing is written for a missing commit');
  });

  it('refuses anything but a full commit id', async () => {
    const { sources } = await freshMirror();
    for (const commit of ['main', first.slice(0, 12), `${first}0`, 'z'.repeat(40)]) {
      const error = await rejection(sources.checkout({ url: origin.url, commit, dest: await repos.tempDir('w') }));
      assert.equal(error.code, 'source-commit-missing', commit);
      assert.match(error.message, /not a full commit id/);
    }
  });

  it('fails with a retriable source-unavailable for a repo that cannot be reached', async () => {
    const { sources } = await freshMirror();
    const port = await freePort();
    const gone = pathToFileURL(join(await repos.tempDir('gone'), 'no-such-repo')).href;
    const urls = [gone, `git://127.0.0.1:${port}/sources.git`];
    for (const url of urls) {
      const error = await rejection(sources.checkout({ url, commit: first, dest: await repos.tempDir('w') }));
      assert.equal(error.code, 'source-unavailable', url);
      assert.equal(error.retriable, true);
      assert.ok(error.message.includes(url), error.message);
    }
  });

  it('keeps credentials out of errors and of the cache directory names', async () => {
    const { sources, cacheDir } = await freshMirror();
    const port = await freePort();
    const url = `http://builder:s3cret-token@127.0.0.1:${port}/sources.git`;
    const error = await rejection(sources.checkout({ url, commit: first, dest: await repos.tempDir('w') }));
    assert.equal(error.code, 'source-unavailable');
    const text = JSON.stringify({ message: error.message, context: error.context });
    assert.ok(!text.includes('s3cret'), text);
    assert.match(error.message, /http:\/\/\*\*\*@127\.0\.0\.1/);
    assert.ok((await readdir(cacheDir)).every((name) => !name.includes('s3cret')));
    await assert.rejects(sources.resolveRef({ url, ref: 'main' }), (e: unknown) => {
      return isBuildfleetError(e, 'source-unavailable') && !e.message.includes('s3cret');
    });
  });

  it('honours an aborted signal', async () => {
    const { sources } = await freshMirror();
    const controller = new AbortController();
    controller.abort(new Error('build cancelled'));
    const dest = join(await repos.tempDir('w'), 'src');
    const error = await rejection(
      sources.checkout({ url: origin.url, commit: first, dest, signal: controller.signal }),
    );
    assert.equal(error.code, 'aborted');
    await assert.rejects(stat(dest), { code: 'ENOENT' });
  });

  it('stops a running checkout when the signal is aborted', async () => {
    const { sources } = await freshMirror();
    const controller = new AbortController();
    const dest = join(await repos.tempDir('w'), 'src');
    const pending = sources.checkout({ url: origin.url, commit: third, dest, signal: controller.signal });
    controller.abort(new Error('superseded'));
    const error = await rejection(pending);
    assert.equal(error.code, 'aborted');
  });

  it('stops a fetch from a server that never answers: abort, and the network time limit', async () => {
    const silent = await silentGitServer();
    try {
      const { sources, cacheDir } = await freshMirror();
      const url = `git://127.0.0.1:${silent.port}/sources.git`;
      const controller = new AbortController();
      const pending = sources.checkout({
        url,
        commit: first,
        dest: await repos.tempDir('w'),
        signal: controller.signal,
      });
      await silent.connected;
      controller.abort(new Error('build cancelled'));
      const aborted = await rejection(pending);
      assert.equal(aborted.code, 'aborted');
      await waitFor(() => silent.openSockets() === 0, 'git to hang up after the abort', 5000);

      const impatient = createSourceMirror({ cacheDir, logger, networkTimeoutMs: 300 });
      const timedOut = await rejection(impatient.checkout({ url, commit: first, dest: await repos.tempDir('w') }));
      assert.equal(timedOut.code, 'source-unavailable');
      assert.equal(timedOut.retriable, true);
      const lsRemote = await rejection(impatient.resolveRef({ url, ref: 'main' }));
      assert.equal(lsRemote.code, 'source-unavailable');
    } finally {
      await silent.close();
    }
  });

  it('resolves branches, tags (annotated ones peeled), HEAD and commit ids', async () => {
    const { sources } = await freshMirror();
    await origin.tag('v1', { at: first });
    await origin.tag('v2-annotated', { annotated: true, at: second });
    await origin.branch('release', second);
    await origin.switchTo('main');
    // A tag and a branch of the same name: like git, the tag wins.
    await origin.tag('release', { at: first });
    const url = origin.url;
    assert.equal(await sources.resolveRef({ url, ref: 'main' }), third);
    assert.equal(await sources.resolveRef({ url }), third, 'no ref means the default branch');
    assert.equal(await sources.resolveRef({ url, ref: 'refs/heads/release' }), second);
    assert.equal(await sources.resolveRef({ url, ref: 'release' }), first);
    assert.equal(await sources.resolveRef({ url, ref: 'v1' }), first);
    assert.equal(await sources.resolveRef({ url, ref: 'v2-annotated' }), second);
    assert.equal(await sources.resolveRef({ url, ref: second }), second);
    assert.equal(await sources.resolveRef({ url, ref: second.toUpperCase() }), second);
    assert.equal(await sources.resolveRef({ url, ref: first.slice(0, 10) }), first);

    const noRef = await rejection(sources.resolveRef({ url, ref: 'no-such-branch' }));
    assert.equal(noRef.code, 'source-commit-missing');
    assert.match(noRef.message, /"no-such-branch"/);
    const noCommit = await rejection(sources.resolveRef({ url, ref: 'f'.repeat(40) }));
    assert.equal(noCommit.code, 'source-commit-missing');
    const noShort = await rejection(sources.resolveRef({ url, ref: 'deadbeef' }));
    assert.equal(noShort.code, 'source-commit-missing');
  });

  it('lists the paths changed between two commits', async () => {
    const { sources } = await freshMirror();
    const url = origin.url;
    assert.deepEqual(await sources.changedPaths({ url, from: first, to: second }), [
      'projects/a/file.txt',
      'projects/b/new.txt',
    ]);
    assert.deepEqual(await sources.changedPaths({ url, from: second, to: third }), ['README', 'projects/a/file.txt']);
    assert.deepEqual(await sources.changedPaths({ url, from: third, to: third }), []);

    const repo = await repos.create('renames');
    const before = await repo.commitFiles({ 'projects/old/pkg/spec': 'x\n', 'dists/bookworm.yml': 'format: deb\n' });
    await repo.git('mv', 'projects/old', 'projects/new');
    const afterMove = await repo.commit('move');
    assert.deepEqual(await sources.changedPaths({ url: repo.url, from: before, to: afterMove }), [
      'projects/new/pkg/spec',
      'projects/old/pkg/spec',
    ]);
    const missing = await rejection(sources.changedPaths({ url: repo.url, from: before, to: 'b'.repeat(40) }));
    assert.equal(missing.code, 'source-commit-missing');
  });

  it('writes files exactly as committed: modes, symlinks, export-ignore and export-subst ignored', async () => {
    const { sources } = await freshMirror();
    const repo = await repos.create('attributes');
    await repo.write({
      '.gitattributes': 'ignored.txt export-ignore\nsubst.txt export-subst\n',
      'ignored.txt': 'still here\n',
      'subst.txt': '$Format:%H$\n',
      'build.sh': '#!/bin/sh\necho hi\n',
    });
    await chmod(join(repo.dir, 'build.sh'), 0o755);
    await symlink('build.sh', join(repo.dir, 'link.sh'));
    const commit = await repo.commit('attributes');
    const dest = join(await repos.tempDir('w'), 'src');
    await sources.checkout({ url: repo.url, commit, dest });
    assert.equal(await readFile(join(dest, 'ignored.txt'), 'utf8'), 'still here\n');
    assert.equal(await readFile(join(dest, 'subst.txt'), 'utf8'), '$Format:%H$\n');
    assert.ok(((await stat(join(dest, 'build.sh'))).mode & 0o111) !== 0, 'build.sh stays executable');
    assert.ok((await lstat(join(dest, 'link.sh'))).isSymbolicLink());
    assert.equal(await readlink(join(dest, 'link.sh')), 'build.sh');
  });

  it('recovers from lock files a killed fetch left behind', async () => {
    const { sources, cacheDir } = await freshMirror();
    await sources.checkout({ url: origin.url, commit: first, dest: await repos.tempDir('w') });
    const [mirrorName] = await readdir(cacheDir);
    assert.ok(mirrorName !== undefined);
    await writeFile(join(cacheDir, mirrorName, 'shallow.lock'), '');
    await writeFile(join(cacheDir, mirrorName, 'packed-refs.lock'), '');
    const result = await sources.checkout({ url: origin.url, commit: third, dest: await repos.tempDir('w') });
    assert.equal(result.fetched, true);
    assert.equal(await readFile(join(result.dir, 'projects/a/file.txt'), 'utf8'), 'three\n');
  });

  it('refuses a destination that is not empty', async () => {
    const { sources } = await freshMirror();
    const dest = await repos.tempDir('w');
    await writeFile(join(dest, 'leftover'), 'x');
    await assert.rejects(sources.checkout({ url: origin.url, commit: first, dest }), /not empty/);
    assert.deepEqual(await readdir(dest), ['leftover']);
  });
});

/** A TCP server that accepts connections and never says a word: a git server that hangs. */
async function silentGitServer(): Promise<{
  port: number;
  connected: Promise<void>;
  openSockets(): number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const connected = deferred();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // Read (and drop) what git sends, so its hang-up is seen as 'end' and 'close'.
    socket.resume();
    connected.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    connected: connected.promise,
    openSockets: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
