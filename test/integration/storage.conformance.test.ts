/**
 * The ArtifactStore conformance suite: one set of tests, run against every adapter (the
 * filesystem store on a temp dir, the S3 store on a real s3proxy), so they cannot drift apart.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isBuildfleetError, type ErrorCode } from '../../shared/errors/index.ts';
import { createArtifactStore, listAll, type ArtifactStore } from '../../shared/storage/index.ts';
import { createTestBucket, testS3Client, useS3 } from '../harness/s3.ts';

interface StoreFixture {
  store: ArtifactStore;
  /** What the backing storage holds outside the store's own area; must stay empty. */
  outsideStore(): Promise<string[]>;
  teardown(): Promise<void>;
}

const MiB = 1024 * 1024;
const ESCAPING_KEYS = ['../x', 'a/../../b', '/abs', 'a//b', 'a/./b', '..', 'a\\..\\b', 'a/b/', 'nul\0byte'];

/** Resolves when `promise` rejects with a BuildfleetError of `code`. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isBuildfleetError(error), `expected a BuildfleetError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** A stream of random bytes in 1 MiB chunks, hashed as produced; `digest()` once consumed. */
function randomSource(totalBytes: number, onProduced?: (produced: number) => void) {
  const hash = createHash('sha256');
  let produced = 0;
  function* chunks(): Generator<Buffer> {
    while (produced < totalBytes) {
      const chunk = randomBytes(Math.min(MiB, totalBytes - produced));
      hash.update(chunk);
      produced += chunk.length;
      onProduced?.(produced);
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), digest: () => hash.digest('hex') };
}

async function sha256OfStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
  }
  return { sha256: hash.digest('hex'), size };
}

const keysOf = async (store: ArtifactStore, prefix: string): Promise<string[]> =>
  (await listAll(store, prefix)).map((listing) => listing.key);

function artifactStoreConformance(adapter: string, setup: () => Promise<StoreFixture>): void {
  describe(`ArtifactStore conformance: ${adapter}`, { timeout: 120_000 }, () => {
    let fixture: StoreFixture;
    let store: ArtifactStore;
    before(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    after(() => fixture.teardown());

    it('puts and gets buffers, text, bytes and empty bodies; a put replaces', async () => {
      await store.put('basic/buffer.bin', Buffer.from([0, 1, 2, 255]));
      await store.put('basic/text.txt', 'héllo ✓\n', { contentType: 'text/plain; charset=utf-8' });
      await store.put('basic/bytes.bin', new Uint8Array([7, 8, 9]));
      await store.put('basic/empty', '');
      assert.deepEqual(await store.get('basic/buffer.bin'), Buffer.from([0, 1, 2, 255]));
      assert.equal((await store.get('basic/text.txt')).toString('utf8'), 'héllo ✓\n');
      assert.deepEqual(await store.get('basic/bytes.bin'), Buffer.from([7, 8, 9]));
      assert.equal((await store.get('basic/empty')).length, 0);
      await store.put('basic/text.txt', 'second');
      assert.equal((await store.get('basic/text.txt')).toString('utf8'), 'second');
      assert.equal((await store.stat('basic/text.txt')).size, 6);
    });

    it('streams a 20 MiB object in and out byte-exact', async () => {
      const size = 20 * MiB;
      const source = randomSource(size);
      await store.put('stream/big.bin', source.stream);
      const stored = await sha256OfStream(await store.getStream('stream/big.bin'));
      assert.deepEqual(stored, { sha256: source.digest(), size });
      assert.equal((await store.stat('stream/big.bin')).size, size);
    });

    it('stats size and modification time', async () => {
      const before = Date.now();
      await store.put('stat/one', 'twelve bytes');
      const { size, modified } = await store.stat('stat/one');
      assert.equal(size, 12);
      // Servers keep whole seconds; allow for that and for clock skew between processes.
      assert.ok(Math.abs(modified.getTime() - before) < 60_000, `modified ${modified.toISOString()}`);
    });

    it('lists by prefix in key order, nested keys included', async () => {
      const keys = ['list/a.txt', 'list/b/c.txt', 'list/b/d/e.txt', 'list/b-x.txt', 'list/bz.txt', 'list/é', 'listing'];
      for (const key of keys) await store.put(key, key);
      assert.deepEqual(await listAll(store, 'list/'), [
        { key: 'list/a.txt', size: 10 },
        { key: 'list/b-x.txt', size: 12 },
        { key: 'list/b/c.txt', size: 12 },
        { key: 'list/b/d/e.txt', size: 14 },
        { key: 'list/bz.txt', size: 11 },
        { key: 'list/é', size: 7 },
      ]);
      assert.deepEqual(await keysOf(store, 'list/b/'), ['list/b/c.txt', 'list/b/d/e.txt']);
      assert.deepEqual(await keysOf(store, 'list/b'), [
        'list/b-x.txt',
        'list/b/c.txt',
        'list/b/d/e.txt',
        'list/bz.txt',
      ]);
      assert.deepEqual(await keysOf(store, 'list'), [...keys].sort(byBytes));
      assert.deepEqual(await keysOf(store, 'list/b/d/e.txt'), ['list/b/d/e.txt']);
      assert.deepEqual(await keysOf(store, 'no-such-prefix/'), []);
      assert.deepEqual(await keysOf(store, 'list/b/c.txt/'), []);
      const everything = await keysOf(store, '');
      for (const key of keys) assert.ok(everything.includes(key), `list('') misses ${key}`);
    });

    it('lists and deletes more keys than one S3 page (1000) holds', async () => {
      const count = 1005;
      const keys = Array.from({ length: count }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < count; i += 25) await Promise.all(keys.slice(i, i + 25).map((key) => store.put(key, 'x')));
      assert.deepEqual(await keysOf(store, 'many/'), keys);
      assert.equal(await store.deletePrefix('many/'), count);
      assert.deepEqual(await keysOf(store, 'many/'), []);
    });

    it('tells whether a key exists; a prefix of other keys is not a key', async () => {
      await store.put('exists/dir/file', 'x');
      assert.equal(await store.exists('exists/dir/file'), true);
      assert.equal(await store.exists('exists/dir'), false);
      assert.equal(await store.exists('exists/nothing'), false);
      await rejectsWith(store.get('exists/dir'), 'storage-not-found');
    });

    it('deletes a key (idempotently) and leaves its neighbours', async () => {
      await store.put('delete/a', 'a');
      await store.put('delete/b', 'b');
      await store.delete('delete/a');
      await rejectsWith(store.get('delete/a'), 'storage-not-found');
      assert.equal(await store.exists('delete/a'), false);
      await store.delete('delete/a');
      await store.delete('delete/never-there/x');
      assert.equal((await store.get('delete/b')).toString(), 'b');
    });

    it('throws storage-not-found for a missing key on get, getStream, stat and copy', async () => {
      await rejectsWith(store.get('missing/key'), 'storage-not-found');
      await rejectsWith(store.getStream('missing/key'), 'storage-not-found');
      await rejectsWith(store.stat('missing/key'), 'storage-not-found');
      await rejectsWith(store.copy('missing/key', 'missing/copy'), 'storage-not-found');
      assert.equal(await store.exists('missing/copy'), false);
    });

    it('copies a key, replacing the target', async () => {
      await store.put('copy/source', 'payload');
      await store.put('copy/target', 'old');
      await store.copy('copy/source', 'copy/target');
      await store.copy('copy/source', 'copy/nested/new');
      assert.equal((await store.get('copy/target')).toString(), 'payload');
      assert.equal((await store.get('copy/nested/new')).toString(), 'payload');
      assert.equal((await store.get('copy/source')).toString(), 'payload');
    });

    it('deletes by prefix and refuses an empty prefix', async () => {
      for (const key of ['prune/a', 'prune/b/c', 'prune/b/d', 'prunes']) await store.put(key, 'x');
      assert.equal(await store.deletePrefix('prune/'), 3);
      assert.deepEqual(await keysOf(store, 'prune'), ['prunes']);
      assert.equal(await store.deletePrefix('prune/'), 0);
      await rejectsWith(store.deletePrefix(''), 'key-invalid');
    });

    it('rejects keys that try to escape, with key-invalid and nothing written', async () => {
      for (const key of ESCAPING_KEYS) {
        await rejectsWith(store.put(key, 'escaped'), 'key-invalid');
        await rejectsWith(store.put(key, Readable.from([Buffer.from('escaped')])), 'key-invalid');
        await rejectsWith(store.get(key), 'key-invalid');
        await rejectsWith(store.getStream(key), 'key-invalid');
        await rejectsWith(store.exists(key), 'key-invalid');
        await rejectsWith(store.stat(key), 'key-invalid');
        await rejectsWith(store.delete(key), 'key-invalid');
        await rejectsWith(store.copy('basic/buffer.bin', key), 'key-invalid');
        await rejectsWith(store.copy(key, 'escape/target'), 'key-invalid');
      }
      for (const prefix of ['../', '/abs', 'a//', '..']) {
        await rejectsWith(listAll(store, prefix), 'key-invalid');
        await rejectsWith(store.deletePrefix(prefix), 'key-invalid');
      }
      assert.deepEqual(await fixture.outsideStore(), []);
      assert.deepEqual(await keysOf(store, 'escape/'), []);
    });

    it('aborts a streamed put midway and leaves no object', async () => {
      const controller = new AbortController();
      // Abort once more than one S3 part has been read; the source would go on to 64 MiB.
      const source = randomSource(64 * MiB, (produced) => produced >= 12 * MiB && controller.abort());
      await rejectsWith(store.put('abort/big.bin', source.stream, { signal: controller.signal }), 'aborted');
      assert.equal(await store.exists('abort/big.bin'), false);
      await rejectsWith(store.get('abort/x', { signal: AbortSignal.abort() }), 'aborted');
      await rejectsWith(store.put('abort/x', 'x', { signal: AbortSignal.abort() }), 'aborted');
      assert.equal(await store.exists('abort/x'), false);
    });

    it('fails a put whose body stream fails, and leaves no object', async () => {
      function* brokenBody(): Generator<Buffer> {
        for (let i = 0; i < 10; i++) yield randomBytes(MiB);
        throw new Error('disk of the build went away');
      }
      await rejectsWith(store.put('broken/body.bin', Readable.from(brokenBody())), 'upload-failed');
      assert.equal(await store.exists('broken/body.bin'), false);
      assert.deepEqual(await keysOf(store, 'broken/'), []);
    });
  });
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

artifactStoreConformance('filesystem', async () => {
  const base = await mkdtemp(join(tmpdir(), 'buildfleet-fs-store-'));
  const store = await createArtifactStore({ type: 'fs', root: join(base, 'root') });
  return {
    store,
    outsideStore: async () => (await readdir(base)).filter((name) => name !== 'root'),
    async teardown() {
      await store.close();
      await rm(base, { recursive: true, force: true });
    },
  };
});

const s3 = await useS3();
artifactStoreConformance('s3 (s3proxy)', async () => {
  const bucket = await createTestBucket(s3, 'conformance');
  const store = await createArtifactStore({
    type: 's3',
    bucket: bucket.name,
    prefix: 'inside',
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const client = testS3Client(s3);
  return {
    store,
    async outsideStore() {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket.name }));
      return (page.Contents ?? []).flatMap((object) => object.Key ?? []).filter((key) => !key.startsWith('inside/'));
    },
    async teardown() {
      client.destroy();
      await store.close();
      await bucket.remove();
    },
  };
});
