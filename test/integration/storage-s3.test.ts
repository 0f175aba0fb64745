/** What only the S3 store and the local S3 server promise, beyond the conformance suite. */
import { DeleteBucketCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../infra/kafka/ports.ts';
import { startS3Server } from '../../infra/s3/server.ts';
import { isBuildfleetError, type ErrorCode } from '../../shared/errors/index.ts';
import { createS3ArtifactStore, type ArtifactStore, type S3ArtifactStoreOptions } from '../../shared/storage/index.ts';
import { uniqueName } from '../harness/names.ts';
import { createTestBucket, testS3Client, useS3, type TestBucket } from '../harness/s3.ts';

const MiB = 1024 * 1024;
const s3 = await useS3();
const connection = {
  endpoint: s3.endpoint,
  region: s3.region,
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
} satisfies Partial<S3ArtifactStoreOptions>;

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, retriable?: boolean): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isBuildfleetError(error, code), `expected ${code}, got ${String(error)}`);
    if (retriable !== undefined) assert.equal(error.retriable, retriable, error.message);
    return true;
  });
}

describe('S3 ArtifactStore', { timeout: 60_000 }, () => {
  let bucket: TestBucket;
  let store: ArtifactStore;
  let client: S3Client;
  before(async () => {
    bucket = await createTestBucket(s3, 's3-store');
    store = await createS3ArtifactStore({ ...connection, bucket: bucket.name });
    client = testS3Client(s3);
  });
  after(async () => {
    client.destroy();
    await store.close();
    await bucket.remove();
  });

  const openUploads = async (): Promise<number> =>
    (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }))).Uploads?.length ?? 0;

  it('aborts the multipart upload of a streamed put that is aborted or whose body fails', async () => {
    const controller = new AbortController();
    function* abortedAfterTwoParts(): Generator<Buffer> {
      for (let i = 0; i < 64; i++) {
        if (i === 20) controller.abort();
        yield randomBytes(MiB);
      }
    }
    await rejectsWith(
      store.put('mpu/aborted', Readable.from(abortedAfterTwoParts()), { signal: controller.signal }),
      'aborted',
    );
    function* failsAfterTwoParts(): Generator<Buffer> {
      for (let i = 0; i < 20; i++) yield randomBytes(MiB);
      throw new Error('body failed');
    }
    await rejectsWith(store.put('mpu/failed', Readable.from(failsAfterTwoParts())), 'upload-failed');
    assert.equal(await openUploads(), 0);
    assert.equal(await store.exists('mpu/aborted'), false);
  });

  it('checks the bucket on create: missing is a config error unless createBucket', async () => {
    const name = uniqueName('s3-missing');
    await rejectsWith(createS3ArtifactStore({ ...connection, bucket: name }), 'config-invalid', false);
    const created = await createS3ArtifactStore({ ...connection, bucket: name, createBucket: true });
    const again = await createS3ArtifactStore({ ...connection, bucket: name, createBucket: true });
    try {
      await created.put('k', 'v');
      assert.equal((await again.get('k')).toString(), 'v');
      assert.equal(again.describe(), `s3://${name}/ (${s3.endpoint})`);
      assert.equal(await again.deletePrefix('k'), 1);
    } finally {
      await created.close();
      await again.close();
      await client.send(new DeleteBucketCommand({ Bucket: name }));
    }
  });

  it('keeps stores with different prefixes in one bucket apart', async () => {
    const a = await createS3ArtifactStore({ ...connection, bucket: bucket.name, prefix: 'tenant-a' });
    const b = await createS3ArtifactStore({ ...connection, bucket: bucket.name, prefix: 'tenant-b/' });
    try {
      await a.put('same/key', 'from a');
      await b.put('same/key', 'from b');
      assert.equal((await a.get('same/key')).toString(), 'from a');
      assert.equal((await b.get('same/key')).toString(), 'from b');
      assert.equal(await a.deletePrefix('same/'), 1);
      assert.equal((await b.get('same/key')).toString(), 'from b');
      assert.equal((await store.get('tenant-b/same/key')).toString(), 'from b');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails with storage-unavailable: not retriable on bad credentials, retriable when unreachable', async () => {
    const badCredentials = { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong' };
    await rejectsWith(
      createS3ArtifactStore({ ...connection, credentials: badCredentials, bucket: bucket.name }),
      'storage-unavailable',
      false,
    );
    const closedPort = await freePort();
    await rejectsWith(
      createS3ArtifactStore({ ...connection, endpoint: `http://127.0.0.1:${closedPort}`, bucket: bucket.name }),
      'storage-unavailable',
      true,
    );
  });
});

describe('local S3 server', { timeout: 60_000 }, () => {
  it('refuses a port another server holds, and stops idempotently', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'buildfleet-s3-server-'));
    const squatter = createServer((_request, response) => response.end('not S3'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    try {
      const address = squatter.address();
      assert.ok(address !== null && typeof address === 'object');
      await rejectsWith(startS3Server({ dataDir, port: address.port }), 'infra-failed');

      const server = await startS3Server({ dataDir });
      const first = server.stop();
      assert.equal(server.stop(), first);
      await first;
      assert.throws(() => process.kill(server.pid, 0), /ESRCH/);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('rejects with aborted when the start is aborted', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'buildfleet-s3-server-'));
    try {
      await rejectsWith(startS3Server({ dataDir, signal: AbortSignal.timeout(200) }), 'aborted');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
