import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import type { DownloadResult } from './port.ts';

/**
 * Writes `source` to `destFile`, hashing it on the way. The bytes go to a temporary file beside
 * it that is renamed into place when complete, so an interrupted download leaves no partial file
 * under the artifact's name.
 */
export async function writeDownload(
  source: Readable | AsyncIterable<Uint8Array>,
  destFile: string,
  signal?: AbortSignal,
): Promise<DownloadResult> {
  await mkdir(dirname(destFile), { recursive: true });
  const temp = `${destFile}.part-${process.pid}`;
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, counter, createWriteStream(temp), signal ? { signal } : {});
    await rename(temp, destFile);
  } catch (error) {
    await rm(temp, { force: true });
    if (signal?.aborted) throw new BuildfleetError('aborted', `download of ${destFile} aborted`, { cause: error });
    throw toBuildfleetError(error, 'storage-unavailable');
  }
  return { path: destFile, size, sha256: hash.digest('hex') };
}
