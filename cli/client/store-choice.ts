/**
 * The artifact store a client reads logs and artifacts of finished builds from, over Kafka:
 * `--store <dir>` (a filesystem store's root), `--store <file>` (YAML or JSON: a service config
 * with a `storage:` section, e.g. infra/config/collector.yml, or the storage section alone), or
 * the BUILDFLEET_STORAGE_* variables.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { FsStorageConfig, S3StorageConfig, type StorageConfig } from '../../shared/config/index.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { checkedValue } from '../../shared/messages/index.ts';
import type { StoreSource } from './connection.ts';

export const NO_STORE_HINT =
  'give the artifact store with --store <dir | config file> or BUILDFLEET_STORAGE_TYPE=fs BUILDFLEET_STORAGE_ROOT=<dir> ' +
  '(or BUILDFLEET_STORAGE_TYPE=s3 BUILDFLEET_STORAGE_BUCKET=...), or use the HTTP API with --api <url>';

/** The storage config a source names; undefined for none. */
export async function storageConfigOf(source: StoreSource): Promise<StorageConfig | undefined> {
  switch (source.kind) {
    case 'none':
      return undefined;
    case 'env':
      return source.config;
    case 'flag':
      return storageFromFlag(source.value);
    default: {
      const unknown: never = source;
      throw new Error(`unknown store source ${JSON.stringify(unknown)}`);
    }
  }
}

async function storageFromFlag(value: string): Promise<StorageConfig> {
  const path = resolve(value);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    throw new BuildfleetError('usage', `--store ${value}: no such directory or file`, { context: { path } });
  }
  if (info.isDirectory()) return { type: 'fs', root: path };
  let document: unknown;
  try {
    document = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new BuildfleetError('config-invalid', `--store ${value}: not a YAML or JSON file`, { cause: error });
  }
  return storageSection(document, value);
}

/** The `storage:` section of a config document (or the document itself), defaults filled and checked. Pure. */
export function storageSection(document: unknown, file: string): StorageConfig {
  const section = isObject(document) && isObject(document.storage) ? document.storage : document;
  if (!isObject(section) || (section.type !== 'fs' && section.type !== 's3')) {
    throw new BuildfleetError(
      'config-invalid',
      `--store ${file}: needs a storage section with type fs (root) or s3 (bucket, endpoint, ...)`,
      { context: { file } },
    );
  }
  const schema = section.type === 'fs' ? FsStorageConfig : S3StorageConfig;
  const filled: unknown = Value.Default(schema, structuredClone(section));
  return checkedValue(schema, filled, (problem) => {
    const field = problem.field === '' ? 'storage' : `storage.${problem.field}`;
    return new BuildfleetError('config-invalid', `--store ${file}: ${field} ${problem.reason}`, {
      context: { file, field, reason: problem.reason },
    });
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
