import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { BuildfleetError, throwIfAborted } from '../errors/index.ts';
import type { ArtifactBody, ArtifactListing, ArtifactStat, ArtifactStore } from './artifact-store.ts';
import { errnoOf, fsStoreError, isMissing, notFound } from './fs-errors.ts';
import { RESERVED_SEGMENT_PREFIX, compareKeys, keyProblem, validateKey, validatePrefix } from './keys.ts';

export interface FsArtifactStoreOptions {
  /** The directory holding the artifacts, one file per key at the key's relative path. Created when missing. */
  root: string;
}

/**
 * The ArtifactStore on a local directory (the all-in-one mode, and a repository root that any
 * static HTTP server can serve). Writes land in a temp file in the target's directory, are
 * fsynced and renamed into place, so a reader never sees a partial file.
 */
export async function createFsArtifactStore(options: FsArtifactStoreOptions): Promise<ArtifactStore> {
  const root = resolve(options.root);
  try {
    await mkdir(root, { recursive: true });
  } catch (error) {
    throw fsStoreError(error, { root });
  }

  const pathOf = (key: string): string => {
    const path = join(root, ...validateKey(key).split('/'));
    // validateKey already rules out escapes; this guards against a future change to it.
    if (!path.startsWith(root + sep)) throw new BuildfleetError('key-invalid', `key ${key} resolves outside the store`);
    return path;
  };

  /** Fills a fresh temp file next to `target` and renames it into place; removes it on failure. */
  async function writeAtomically(key: string, fill: (temp: FileHandle) => Promise<void>): Promise<void> {
    const target = pathOf(key);
    const temp = join(dirname(target), `${RESERVED_SEGMENT_PREFIX}${randomUUID()}`);
    const handle = await createTemp(temp, key);
    try {
      try {
        await fill(handle);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw fsStoreError(error, { key }, 'write');
    }
  }

  async function createTemp(temp: string, key: string): Promise<FileHandle> {
    // A concurrent delete() may prune the directory between mkdir and open; try again then.
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(temp), { recursive: true });
        return await open(temp, 'wx');
      } catch (error) {
        if (attempt < 3 && errnoOf(error) === 'ENOENT') continue;
        throw fsStoreError(error, { key }, 'write');
      }
    }
  }

  /** Removes directories left empty by a delete, up to (not including) the root. */
  async function pruneEmptyParents(path: string): Promise<void> {
    for (let dir = dirname(path); dir.startsWith(root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
    }
  }

  async function* walk(
    dir: string,
    keyPrefix: string,
    namePrefix: string,
    signal?: AbortSignal,
  ): AsyncGenerator<ArtifactListing> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw fsStoreError(error, { prefix: keyPrefix + namePrefix });
    }
    // Sorting a directory's name as 'name/' makes this depth-first walk yield keys in the same
    // byte order as S3 ('a-b' < 'a/x' because '-' < '/').
    const relevant = entries
      .filter((e) => (e.isFile() || e.isDirectory()) && e.name.startsWith(namePrefix))
      .filter((e) => !e.name.startsWith(RESERVED_SEGMENT_PREFIX))
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), order: e.isDirectory() ? `${e.name}/` : e.name }))
      .sort((a, b) => compareKeys(a.order, b.order));
    for (const entry of relevant) {
      throwIfAborted(signal);
      const key = keyPrefix + entry.name;
      if (entry.isDir) {
        yield* walk(join(dir, entry.name), `${key}/`, '', signal);
        continue;
      }
      if (keyProblem(key) !== undefined) continue; // not written by a store: skip what get() would reject
      try {
        const { size } = await stat(join(dir, entry.name));
        yield { key, size } satisfies ArtifactListing;
      } catch (error) {
        if (!isMissing(error)) throw fsStoreError(error, { key });
      }
    }
  }

  const store: ArtifactStore = {
    async put(key, body, options = {}) {
      pathOf(key);
      throwIfAborted(options.signal);
      await writeAtomically(key, (temp) => writeBody(temp, body, options.signal));
    },

    async get(key, options = {}) {
      try {
        return await readFile(pathOf(key), { signal: options.signal });
      } catch (error) {
        throw fsStoreError(error, { key });
      }
    },

    async getStream(key, options = {}) {
      throwIfAborted(options.signal);
      const handle = await openForReading(pathOf(key), key);
      const stream = handle.createReadStream(); // closes the handle when it ends or is destroyed
      return options.signal ? addAbortSignal(options.signal, stream) : stream;
    },

    async exists(key, options = {}) {
      const path = pathOf(key);
      throwIfAborted(options.signal);
      try {
        return (await stat(path)).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw fsStoreError(error, { key });
      }
    },

    async stat(key, options = {}): Promise<ArtifactStat> {
      const path = pathOf(key);
      throwIfAborted(options.signal);
      try {
        const stats = await stat(path);
        if (!stats.isFile()) throw notFound({ key }); // a directory of other keys
        return { size: stats.size, modified: stats.mtime };
      } catch (error) {
        throw fsStoreError(error, { key });
      }
    },

    list(prefix, options = {}) {
      validatePrefix(prefix);
      const cut = prefix.lastIndexOf('/') + 1;
      const dirKey = prefix.slice(0, cut);
      return walk(join(root, ...dirKey.split('/').filter(Boolean)), dirKey, prefix.slice(cut), options.signal);
    },

    async delete(key, options = {}) {
      const path = pathOf(key);
      throwIfAborted(options.signal);
      try {
        await unlink(path);
      } catch (error) {
        // EISDIR: the key is a directory of other keys, not a key itself; nothing to delete.
        const code = errnoOf(error);
        if (isMissing(error) || code === 'EISDIR') return;
        throw fsStoreError(error, { key });
      }
      await pruneEmptyParents(path);
    },

    async deletePrefix(prefix, options = {}) {
      if (prefix === '') throw new BuildfleetError('key-invalid', 'deletePrefix needs a non-empty prefix');
      let deleted = 0;
      // Collect first: deleting while walking would prune directories the walk is still in.
      const keys: string[] = [];
      for await (const { key } of store.list(prefix, options)) keys.push(key);
      for (const key of keys) {
        await store.delete(key, options);
        deleted++;
      }
      return deleted;
    },

    async copy(from, to, options = {}) {
      pathOf(to);
      const source = await openForReading(pathOf(from), from);
      try {
        await writeAtomically(to, (temp) => copyContent(source, temp, options.signal));
      } finally {
        await source.close();
      }
    },

    describe: () => pathToFileURL(root).href,
    close: () => Promise.resolve(),
  };
  return store;
}

/** Opens a key's file; a missing key or a directory is 'storage-not-found'. */
async function openForReading(path: string, key: string): Promise<FileHandle> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    if (!(await handle.stat()).isFile()) throw notFound({ key }); // a directory of other keys
    return handle;
  } catch (error) {
    await handle?.close();
    throw fsStoreError(error, { key });
  }
}

async function writeBody(temp: FileHandle, body: ArtifactBody, signal: AbortSignal | undefined): Promise<void> {
  // writeFile consumes a Readable chunk by chunk, and destroys it when the signal aborts.
  await writeFile(temp, body, { signal });
}

const COPY_CHUNK_BYTES = 1024 * 1024;

async function copyContent(source: FileHandle, target: FileHandle, signal: AbortSignal | undefined): Promise<void> {
  const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  for (;;) {
    throwIfAborted(signal);
    const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return;
    await target.write(buffer, 0, bytesRead);
  }
}
