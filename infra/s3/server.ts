import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { launchJvm, type JvmProcess } from '../kafka/jvm-process.ts';
import { freePort } from '../kafka/ports.ts';

/** A running s3proxy (filesystem backend) on 127.0.0.1, speaking S3 with signature v2/v4. */
export interface S3Server {
  /** e.g. http://127.0.0.1:41234 — use path-style addressing. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** Where the buckets live: one directory per bucket, one file per object. */
  readonly bucketsDir: string;
  /** The server's stdout/stderr (warnings and errors only). */
  readonly logFile: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after the stop deadline. Idempotent: later calls return the first promise. */
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  /** Holds the server's files: buckets/, s3proxy.properties, s3proxy.log. Created when missing. */
  dataDir: string;
  /** @default a free port chosen by the kernel */
  port?: number;
  /** Aborting while the server starts stops it and rejects with code 'aborted'. */
  signal?: AbortSignal;
  /** How long to wait for the first HTTP answer. @default 30000 */
  readyTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL on stop(). @default 5000 */
  stopGraceMs?: number;
}

/** The fixed credentials of every local server; they guard nothing but prove the client signs. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'local-identity', secretAccessKey: 'local-credential' } as const;
export const LOCAL_S3_REGION = 'us-east-1';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const libsDir = join(repoRoot, '.cache', 's3proxy', 'libs');
const logbackConfig = fileURLToPath(new URL('./logback.xml', import.meta.url));
const READY_POLL_MS = 100;

/** Starts s3proxy and resolves once it answers HTTP requests. */
export async function startS3Server(options: StartS3ServerOptions): Promise<S3Server> {
  const { dataDir, signal, readyTimeoutMs = 30_000, stopGraceMs = 5_000 } = options;
  throwIfAborted(signal);
  if (!existsSync(libsDir)) {
    throw new BuildfleetError('infra-failed', `s3proxy is not installed (${libsDir}); run: bash infra/install.sh s3`, {
      retriable: false,
    });
  }
  const port = options.port ?? (await freePort());
  // s3proxy would exit on the bind error, but not before another server on the port answered us.
  if (await acceptsConnections(port)) {
    throw new BuildfleetError('infra-failed', `port ${port} on 127.0.0.1 is already in use`, {
      retriable: false,
      context: { port },
    });
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const bucketsDir = join(dataDir, 'buckets');
  const propertiesFile = join(dataDir, 's3proxy.properties');
  const logFile = join(dataDir, 's3proxy.log');
  await mkdir(bucketsDir, { recursive: true });
  await writeFile(propertiesFile, s3proxyProperties(endpoint, bucketsDir));

  const jvm = await launchS3proxy(propertiesFile, logFile);
  try {
    await waitUntilAnswering(endpoint, jvm, readyTimeoutMs, logFile, signal);
  } catch (error) {
    await jvm.stop(stopGraceMs);
    throw error;
  }
  return {
    endpoint,
    ...LOCAL_S3_CREDENTIALS,
    region: LOCAL_S3_REGION,
    bucketsDir,
    logFile,
    pid: jvm.pid,
    stop: () => jvm.stop(stopGraceMs),
  };
}

async function launchS3proxy(propertiesFile: string, logFile: string): Promise<JvmProcess> {
  try {
    return await launchJvm({
      // A small heap is plenty: the filesystem backend streams object bodies. C1 only
      // (TieredStopAtLevel=1) halves the start (~2.3 s -> ~1 s) and suits short-lived servers.
      jvmArgs: [
        '-Xms64m',
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dlogback.configurationFile=${logbackConfig}`,
      ],
      classpath: `${libsDir}/*`,
      mainClass: 'org.gaul.s3proxy.Main',
      args: ['--properties', propertiesFile],
      consoleLog: logFile,
      detached: false,
    });
  } catch (error) {
    throw new BuildfleetError('infra-failed', `could not start java for s3proxy: ${String(error)}`, { cause: error });
  }
}

function s3proxyProperties(endpoint: string, bucketsDir: string): string {
  return [
    `s3proxy.endpoint=${endpoint}`,
    's3proxy.authorization=aws-v2-or-v4',
    `s3proxy.identity=${LOCAL_S3_CREDENTIALS.accessKeyId}`,
    `s3proxy.credential=${LOCAL_S3_CREDENTIALS.secretAccessKey}`,
    'jclouds.provider=filesystem',
    `jclouds.filesystem.basedir=${bucketsDir}`,
    '',
  ].join('\n');
}

/**
 * Polls with a signed ListBuckets until it succeeds: that proves the answer comes from this
 * s3proxy with these credentials, not from another server that already held the port. Fails
 * early with the log's tail when the JVM exits (e.g. the port was taken).
 */
async function waitUntilAnswering(
  endpoint: string,
  jvm: JvmProcess,
  timeoutMs: number,
  logFile: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const client = new S3Client({
    endpoint,
    region: LOCAL_S3_REGION,
    credentials: LOCAL_S3_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      throwIfAborted(signal);
      if (jvm.hasExited()) {
        const status = await jvm.exited;
        throw new BuildfleetError('infra-failed', `s3proxy exited while starting (code ${String(status.code)})`, {
          cause: status.error,
          context: { endpoint, logFile, logTail: await tail(logFile) },
        });
      }
      if (await listsBuckets(client, signal)) return;
      if (Date.now() > deadline) {
        throw new BuildfleetError('infra-failed', `s3proxy did not answer on ${endpoint} within ${timeoutMs} ms`, {
          context: { endpoint, logFile, logTail: await tail(logFile) },
        });
      }
      await Promise.race([sleep(READY_POLL_MS, undefined, { signal }).catch(() => undefined), jvm.exited]);
    }
  } finally {
    client.destroy();
  }
}

async function listsBuckets(client: S3Client, signal: AbortSignal | undefined): Promise<boolean> {
  const attempt = AbortSignal.timeout(2_000);
  try {
    await client.send(new ListBucketsCommand({}), {
      abortSignal: signal ? AbortSignal.any([signal, attempt]) : attempt,
    });
    return true;
  } catch {
    return false; // not listening yet (or not our server)
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last few KiB of a log file, for error messages. */
async function tail(file: string, bytes = 4096): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - bytes);
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(size - start), 0, size - start, start);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
