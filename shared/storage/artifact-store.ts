import type { Readable } from 'node:stream';

/**
 * The ArtifactStore port: where runners put build artifacts and logs, and where the collector
 * reads them and publishes repositories. Adapters: S3 (s3-store.ts) and a local directory
 * (fs-store.ts); test/integration/storage.conformance.test.ts runs one suite against both.
 *
 * Keys follow shared/storage/keys.ts; an invalid key or prefix throws BuildfleetError
 * 'key-invalid' before any I/O. A missing key throws 'storage-not-found'. Other failures of the
 * backing store throw 'storage-unavailable' (retriable unless the store refused the request),
 * and an aborted signal throws 'aborted'.
 *
 * Keys form a tree: do not store both 'a' and 'a/b'. S3 allows it but a directory cannot be a
 * file, so the filesystem store rejects the second one with 'key-invalid'.
 */
export interface ArtifactStore {
  /**
   * Stores `body` under `key`, replacing what was there. Readers see the old or the new
   * content, never a part: the filesystem store renames a finished temp file into place, S3
   * makes an object visible when its (multipart) upload completes. A Readable of unknown length
   * is streamed, not buffered whole.
   */
  put(key: string, body: ArtifactBody, options?: PutOptions): Promise<void>;
  /** The whole content in memory; for small objects (metadata, indexes). */
  get(key: string, options?: ReadOptions): Promise<Buffer>;
  /** The content as a stream. Not-found is thrown by this call, not emitted by the stream. */
  getStream(key: string, options?: ReadOptions): Promise<Readable>;
  exists(key: string, options?: ReadOptions): Promise<boolean>;
  stat(key: string, options?: ReadOptions): Promise<ArtifactStat>;
  /** Every key starting with `prefix` ('' for all), in ascending UTF-8 byte order, page by page. */
  list(prefix: string, options?: ReadOptions): AsyncIterable<ArtifactListing>;
  /** Removes `key`. Idempotent: a missing key is not an error. */
  delete(key: string, options?: ReadOptions): Promise<void>;
  /**
   * Removes every key starting with `prefix` and returns how many. The prefix must not be
   * empty, so that a bug cannot wipe a whole store.
   */
  deletePrefix(prefix: string, options?: ReadOptions): Promise<number>;
  /** Copies `from` to `to` inside the store; `to` appears whole or not at all. */
  copy(from: string, to: string, options?: ReadOptions): Promise<void>;
  /** Where the store is, for logs: 's3://bucket/prefix (http://host:port)' or 'file:///dir'. */
  describe(): string;
  /** Releases connections. The store must not be used afterwards. Idempotent. */
  close(): Promise<void>;
}

/** What put() accepts: bytes, text (stored as UTF-8) or a stream of bytes. */
export type ArtifactBody = Buffer | Uint8Array | string | Readable;

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface PutOptions extends ReadOptions {
  /** Content-Type for S3 (served as-is when repositories are served from the bucket). The
   * filesystem store does not keep it. @default 'application/octet-stream' */
  contentType?: string;
}

export interface ArtifactStat {
  /** Bytes. */
  size: number;
  modified: Date;
}

export interface ArtifactListing {
  key: string;
  /** Bytes. */
  size: number;
}

/** Collects a listing into an array (Array.fromAsync is not in Node 20). */
export async function listAll(store: ArtifactStore, prefix: string, options?: ReadOptions): Promise<ArtifactListing[]> {
  const listings: ArtifactListing[] = [];
  for await (const listing of store.list(prefix, options)) listings.push(listing);
  return listings;
}
