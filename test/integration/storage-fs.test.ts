/** What only the filesystem store promises, beyond the conformance suite: its on-disk layout. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { createFsArtifactStore, listAll, type ArtifactStore } from '../../shared/storage/index.ts';

/** Every path under `dir`, relative, files and directories. */
async function allPaths(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe('filesystem ArtifactStore', { timeout: 60_000 }, () => {
  let base: string;
  let root: string;
  let store: ArtifactStore;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'buildfleet-fs-store-'));
    root = join(base, 'nested', 'root');
    store = await createFsArtifactStore({ root });
  });
  after(() => rm(base, { recursive: true, force: true }));

  it('creates its root and keeps each key at its relative path, for a static HTTP server', async () => {
    await store.put('repos/apt/dists/bookworm/Release', 'Origin: buildfleet\n');
    assert.equal(await readFile(join(root, 'repos/apt/dists/bookworm/Release'), 'utf8'), 'Origin: buildfleet\n');
    assert.equal(store.describe(), `file://${root}`);
  });

  it('refuses a key that would make a file a directory or the other way round', async () => {
    await store.put('tree/leaf', 'leaf');
    await store.put('tree/branch/leaf', 'x');
    for (const [key, why] of [
      ['tree/leaf/below', 'a file as a directory'],
      ['tree/branch', 'a directory as a file'],
    ]) {
      await assert.rejects(store.put(key ?? '', 'conflict'), (error: unknown) => {
        assert.ok(isBuildfleetError(error, 'key-invalid'), `${why}: ${String(error)}`);
        return true;
      });
    }
    assert.equal((await store.get('tree/leaf')).toString(), 'leaf');
    assert.deepEqual(
      (await listAll(store, 'tree/')).map((l) => l.key),
      ['tree/branch/leaf', 'tree/leaf'],
    );
  });

  it('never shows a partial file: concurrent readers see one whole version', async () => {
    const versions = Array.from({ length: 6 }, () => randomBytes(2 * 1024 * 1024));
    const known = new Set(versions.map((v) => v.toString('base64')));
    await store.put('atomic/blob', versions[0] ?? '');
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const seen = await store.get('atomic/blob');
        assert.ok(known.has(seen.toString('base64')), `read ${seen.length} bytes matching no version`);
        reads++;
      }
    })();
    try {
      await Promise.all(versions.map((version) => store.put('atomic/blob', Readable.from([version]))));
    } finally {
      writing = false;
      await reader;
    }
    assert.ok(reads > 0);
  });

  it('leaves no temp files after aborted and failed writes, and hides foreign temp names', async () => {
    const controller = new AbortController();
    function* endless(): Generator<Buffer> {
      for (let i = 0; i < 64; i++) {
        if (i === 3) controller.abort();
        yield randomBytes(1024 * 1024);
      }
    }
    await assert.rejects(store.put('temp/aborted', Readable.from(endless()), { signal: controller.signal }));
    function* broken(): Generator<Buffer> {
      yield randomBytes(1024);
      throw new Error('source failed');
    }
    await assert.rejects(store.put('temp/broken', Readable.from(broken())));
    assert.deepEqual(await readdir(join(root, 'temp')).catch(() => []), []);
    // A crash can leave a temp file behind; it must not show up as a key.
    await writeFile(join(root, 'repos', '.~left-over'), 'partial');
    assert.deepEqual(
      (await listAll(store, 'repos/')).map((l) => l.key),
      ['repos/apt/dists/bookworm/Release'],
    );
  });

  it('prunes directories that deletes leave empty, up to the root', async () => {
    await store.put('prune/a/b/c', 'x');
    await store.put('prune/a/keep', 'x');
    await store.delete('prune/a/b/c');
    assert.deepEqual(await allPaths(join(root, 'prune')), ['a', 'a/keep']);
    await store.deletePrefix('prune/');
    assert.deepEqual(
      (await readdir(root)).filter((name) => name === 'prune'),
      [],
    );
    assert.deepEqual(await readdir(base), ['nested']);
  });
});
