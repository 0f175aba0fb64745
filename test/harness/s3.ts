import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { after } from 'node:test';
import { LOCAL_S3_REGION, startS3Server } from '../../infra/s3/server.ts';
import { createS3ArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { uniqueName } from './names.ts';
import { startInTempDir } from './temp-dir-service.ts';

/** How a test reaches an S3 server. */
export interface TestS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** A server started by startTestS3(); stop() also removes its data directory. Idempotent. */
export interface StartedTestS3 extends TestS3 {
  stop(): Promise<void>;
}

/**
 * The environment variables naming a run-wide server (set by the test runner that started it
 * with startTestS3). This is the only place they are read.
 */
export const TEST_S3_ENV = {
  endpoint: 'BUILDFLEET_TEST_S3_ENDPOINT',
  accessKeyId: 'BUILDFLEET_TEST_S3_ACCESS_KEY',
  secretAccessKey: 'BUILDFLEET_TEST_S3_SECRET_KEY',
  region: 'BUILDFLEET_TEST_S3_REGION',
} as const;

/**
 * An S3 server for the calling test file: the run-wide one when BUILDFLEET_TEST_S3_ENDPOINT is
 * set, otherwise a fresh s3proxy in a temp dir that an `after()` hook stops and removes. Call it
 * at the top level of a test file: node:test attaches an `after()` made inside a hook or a test
 * to that hook or test, which would stop the server as soon as it ends.
 * Tests share the server, so each makes its own bucket.
 */
export async function useS3(): Promise<TestS3> {
  const endpoint = process.env[TEST_S3_ENV.endpoint];
  if (endpoint !== undefined && endpoint !== '') {
    return {
      endpoint,
      accessKeyId: requiredEnv(TEST_S3_ENV.accessKeyId),
      secretAccessKey: requiredEnv(TEST_S3_ENV.secretAccessKey),
      region: process.env[TEST_S3_ENV.region] || LOCAL_S3_REGION,
    };
  }
  const server = await startTestS3();
  after(() => server.stop());
  return server;
}

/** Starts an s3proxy in a fresh temp dir, always (the run-wide runner uses this). */
export async function startTestS3(signal?: AbortSignal): Promise<StartedTestS3> {
  const { server, stop } = await startInTempDir('buildfleet-s3-', (dataDir) => startS3Server({ dataDir, signal }));
  const { endpoint, accessKeyId, secretAccessKey, region } = server;
  return { endpoint, accessKeyId, secretAccessKey, region, stop };
}

/** The variables a child test process needs to use `server` through useS3(). */
export function testS3Env(server: TestS3): Record<string, string> {
  return {
    [TEST_S3_ENV.endpoint]: server.endpoint,
    [TEST_S3_ENV.accessKeyId]: server.accessKeyId,
    [TEST_S3_ENV.secretAccessKey]: server.secretAccessKey,
    [TEST_S3_ENV.region]: server.region,
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} must be set with ${TEST_S3_ENV.endpoint}`);
  return value;
}

/** A raw S3 client for `server`, configured as the S3 store configures its own. Destroy it when done. */
export function testS3Client(server: TestS3): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A bucket of its own for one test (name: `<label>-<random>`); remove() empties and deletes it. */
export interface TestBucket {
  name: string;
  remove(): Promise<void>;
}

export async function createTestBucket(server: TestS3, label: string): Promise<TestBucket> {
  const name = uniqueName(label);
  const client = testS3Client(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    client.destroy();
    throw error;
  }
  return {
    name,
    async remove() {
      try {
        for (;;) {
          const page = await client.send(new ListObjectsV2Command({ Bucket: name }));
          const objects = (page.Contents ?? []).flatMap((object) =>
            object.Key === undefined ? [] : [{ Key: object.Key }],
          );
          if (objects.length === 0) break;
          await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: objects, Quiet: true } }));
        }
        await client.send(new DeleteBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
  };
}

/** An S3 artifact store on a bucket of its own; remove() closes the store, then removes the bucket. */
export async function testS3Store(
  server: TestS3,
  label: string,
): Promise<{ store: ArtifactStore; bucket: string; remove: () => Promise<void> }> {
  const bucket = await createTestBucket(server, label);
  const store = await createS3ArtifactStore({
    bucket: bucket.name,
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  return {
    store,
    bucket: bucket.name,
    async remove() {
      await store.close();
      await bucket.remove();
    },
  };
}
