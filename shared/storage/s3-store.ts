import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { BuildfleetError, throwIfAborted } from '../errors/index.ts';
import type { ArtifactListing, ArtifactStore, PutOptions } from './artifact-store.ts';
import { keyProblem, validateKey, validatePrefix } from './keys.ts';
import { httpStatusOf, s3StoreError } from './s3-errors.ts';

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Prepended to every key inside the bucket, so several stores can share one. A '/' is added when missing. @default '' */
  prefix?: string;
  /** For S3-compatible servers (s3proxy, MinIO...). @default the AWS endpoint of `region` */
  endpoint?: string;
  /** @default 'us-east-1' */
  region?: string;
  /** @default the AWS SDK's default chain (environment, profile, instance role) */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Create the bucket on start when it is missing; otherwise its absence fails the start. @default false */
  createBucket?: boolean;
  /** Bytes per part of a streamed (multipart) upload; at least 5 MiB. @default 8 MiB */
  partSizeBytes?: number;
  /** Parts of one streamed upload in flight at once (memory: this × partSizeBytes). @default 4 */
  uploadConcurrency?: number;
}

const DEFAULTS = {
  prefix: '',
  region: 'us-east-1',
  createBucket: false,
  partSizeBytes: 8 * 1024 * 1024,
  uploadConcurrency: 4,
};
const MIN_PART_BYTES = 5 * 1024 * 1024;
const DELETE_BATCH = 1000; // DeleteObjects' limit

/** The ArtifactStore on an S3 bucket. Connects and checks (or creates) the bucket before it resolves. */
export async function createS3ArtifactStore(options: S3ArtifactStoreOptions): Promise<ArtifactStore> {
  const config = { ...DEFAULTS, ...options };
  if (config.bucket === '') throw new BuildfleetError('config-invalid', 'storage.bucket must not be empty');
  if (config.partSizeBytes < MIN_PART_BYTES) {
    throw new BuildfleetError('config-invalid', `storage.partSizeBytes must be at least ${MIN_PART_BYTES}`);
  }
  const keyPrefix = config.prefix === '' || config.prefix.endsWith('/') ? config.prefix : `${config.prefix}/`;
  if (keyPrefix !== '') validatePrefix(keyPrefix);
  const { bucket } = config;

  const client = new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    // S3-compatible servers want bucket names in the path, not in the host name.
    forcePathStyle: true,
    // Default checksums make the SDK send streamed bodies with aws-chunked framing, which some
    // S3-compatible servers store verbatim inside the object (TOOLING.md). Only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const objectKey = (key: string): string => keyPrefix + validateKey(key);
  const call = <T>(context: Record<string, unknown>, run: () => Promise<T>): Promise<T> =>
    run().catch((error: unknown) => {
      throw s3StoreError(error, { bucket, ...context });
    });

  try {
    if (config.createBucket) await ensureBucket(client, bucket);
    else await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    client.destroy();
    if (httpStatusOf(error) === 404) {
      throw new BuildfleetError('config-invalid', `storage.bucket ${bucket} does not exist (or set createBucket)`, {
        cause: error,
        context: { bucket, endpoint: config.endpoint },
      });
    }
    throw s3StoreError(error, { bucket, endpoint: config.endpoint });
  }

  async function putStream(key: string, body: Readable, options: PutOptions): Promise<void> {
    const { signal } = options;
    // lib-storage's own abort rejects before its in-flight parts settle; destroying the body
    // instead makes done() wait for them and abort the multipart upload before rejecting.
    let sourceError: unknown;
    body.once('error', (error) => (sourceError ??= error));
    const abort = (): void => void body.destroy(abortError(signal));
    signal?.addEventListener('abort', abort, { once: true });
    try {
      throwIfAborted(signal);
      const upload = new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: objectKey(key),
          Body: body,
          ContentType: options.contentType ?? 'application/octet-stream',
        },
        partSize: config.partSizeBytes,
        queueSize: config.uploadConcurrency,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      body.destroy(); // as pipeline() would: the caller's source (a file, a process) is released
      if (signal?.aborted) throw abortError(signal);
      if (sourceError !== undefined && !(sourceError instanceof BuildfleetError)) {
        throw new BuildfleetError(
          'upload-failed',
          `artifact body failed: ${sourceError instanceof Error ? sourceError.message : 'stream error'}`,
          {
            cause: sourceError,
            context: { bucket, key },
          },
        );
      }
      throw s3StoreError(error, { bucket, key });
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async function* listPages(prefix: string, signal?: AbortSignal): AsyncGenerator<ArtifactListing> {
    let continuationToken: string | undefined;
    do {
      const page = await call({ prefix }, () =>
        client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: keyPrefix + prefix,
            ContinuationToken: continuationToken,
          }),
          { abortSignal: signal },
        ),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(keyPrefix.length);
        // Objects put there by other tools may have keys this store would refuse; get() could not read them.
        if (key === undefined || keyProblem(key) !== undefined) continue;
        yield { key, size: object.Size ?? 0 };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  const store: ArtifactStore = {
    async put(key, body, options = {}) {
      const Key = objectKey(key);
      if (body instanceof Readable) return putStream(key, body, options);
      await call({ key }, () =>
        client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key,
            Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
            ContentType: options.contentType ?? 'application/octet-stream',
          }),
          { abortSignal: options.signal },
        ),
      );
    },

    async get(key, options = {}) {
      const stream = await store.getStream(key, options);
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of stream) chunks.push(chunk as Buffer);
      } catch (error) {
        throw s3StoreError(error, { bucket, key });
      }
      return Buffer.concat(chunks);
    },

    async getStream(key, options = {}) {
      const Key = objectKey(key);
      const response = await call({ key }, () =>
        client.send(new GetObjectCommand({ Bucket: bucket, Key }), { abortSignal: options.signal }),
      );
      if (!(response.Body instanceof Readable)) {
        throw new BuildfleetError('internal', 'S3 GetObject returned no Node.js stream', { context: { bucket, key } });
      }
      return response.Body;
    },

    async exists(key, options = {}) {
      try {
        await store.stat(key, options);
        return true;
      } catch (error) {
        if (error instanceof BuildfleetError && error.code === 'storage-not-found') return false;
        throw error;
      }
    },

    async stat(key, options = {}) {
      const Key = objectKey(key);
      const head = await call({ key }, () =>
        client.send(new HeadObjectCommand({ Bucket: bucket, Key }), { abortSignal: options.signal }),
      );
      return { size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
    },

    list(prefix, options = {}) {
      return listPages(validatePrefix(prefix), options.signal);
    },

    async delete(key, options = {}) {
      const Key = objectKey(key);
      await call({ key }, () =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key }), { abortSignal: options.signal }),
      );
    },

    async deletePrefix(prefix, options = {}) {
      if (prefix === '') throw new BuildfleetError('key-invalid', 'deletePrefix needs a non-empty prefix');
      validatePrefix(prefix);
      let deleted = 0;
      let batch: string[] = [];
      const flush = async (): Promise<void> => {
        const objects = batch.map((key) => ({ Key: keyPrefix + key }));
        batch = [];
        const result = await call({ prefix }, () =>
          client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }), {
            abortSignal: options.signal,
          }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          throw new BuildfleetError(
            'storage-unavailable',
            `S3 store: ${failed.length} keys under ${prefix} not deleted`,
            {
              context: { bucket, prefix, errors: failed.slice(0, 5) },
            },
          );
        }
        deleted += objects.length;
      };
      // Listing continues from a token, so deleting the keys already listed does not disturb it.
      for await (const { key } of listPages(prefix, options.signal)) {
        batch.push(key);
        if (batch.length === DELETE_BATCH) await flush();
      }
      if (batch.length > 0) await flush();
      return deleted;
    },

    async copy(from, to, options = {}) {
      const source = objectKey(from);
      const Key = objectKey(to);
      // CopySource is '<bucket>/<key>', URL-encoded except for the separators.
      const CopySource = `${bucket}/${source.split('/').map(encodeURIComponent).join('/')}`;
      await call({ key: from, to }, () =>
        client.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource }), { abortSignal: options.signal }),
      );
    },

    describe: () => `s3://${bucket}/${keyPrefix}${config.endpoint === undefined ? '' : ` (${config.endpoint})`}`,

    close() {
      client.destroy();
      return Promise.resolve();
    },
  };
  return store;
}

async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    // Created earlier by us (or a parallel start): fine. Owned by someone else: a real error.
    if (error instanceof Error && error.name === 'BucketAlreadyOwnedByYou') return;
    throw error;
  }
}

function abortError(signal: AbortSignal | undefined): BuildfleetError {
  const reason: unknown = signal?.reason;
  return new BuildfleetError('aborted', reason instanceof Error ? reason.message : 'aborted', { cause: reason });
}
