import { readFileSync } from 'node:fs';
import type { TSchema } from '@sinclair/typebox';
import { KindGuard } from '@sinclair/typebox';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { BuildfleetError } from '../errors/index.ts';
import { keyOf, type ConfigPath } from './origins.ts';
import { acceptsAnyKey, childSchema, isPlainObject, propertiesOf, selectedVariant } from './schema-shape.ts';

/** A parsed YAML config file that can tell on which line a key stands. */
export interface ConfigFile {
  readonly file: string;
  readonly value: Record<string, unknown>;
  lineOf(path: ConfigPath): number | undefined;
}

/** Reads and parses a YAML config file; unreadable files and YAML errors name the file and line. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BuildfleetError('config-invalid', `config: cannot read ${file}: ${reason}`, {
      cause: error,
      context: { file },
    });
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [firstError] = document.errors;
  if (firstError !== undefined) {
    const { line, col } = lineCounter.linePos(firstError.pos[0]);
    const reason = firstError.message.split('\n')[0] ?? firstError.message;
    throw new BuildfleetError('config-invalid', `config: ${file}:${line}:${col}: invalid YAML: ${reason}`, {
      cause: firstError,
      context: { file, line, column: col },
    });
  }
  const parsed: unknown = document.toJS();
  if (parsed !== null && parsed !== undefined && !isPlainObject(parsed)) {
    throw new BuildfleetError('config-invalid', `config: ${file} must hold a mapping of keys at the top level`, {
      context: { file },
    });
  }
  return {
    file,
    value: parsed ?? {},
    lineOf: (path) => lineOfPath(document, lineCounter, path),
  };
}

function lineOfPath(document: Document, lineCounter: LineCounter, path: ConfigPath): number | undefined {
  let node: unknown = document.contents;
  let offset: number | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) return undefined;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(segment)];
      offset = isScalar(item) || isMap(item) || isSeq(item) ? item.range?.[0] : undefined;
      node = item;
    } else {
      return undefined;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}

/** A key in the file that the schema does not know, with the nearest known spelling. */
export interface UnknownKey {
  path: ConfigPath;
  suggestion?: string;
}

/**
 * Keys in `value` that `schema` does not declare. Config files are checked strictly so that
 * a typo (`buildSlot:`) fails loudly at start instead of silently leaving the default.
 */
export function findUnknownKeys(schema: TSchema, value: unknown, path: ConfigPath = []): UnknownKey[] {
  if (Array.isArray(value)) {
    if (!KindGuard.IsArray(schema)) return [];
    return value.flatMap((item: unknown, index) => findUnknownKeys(schema.items, item, [...path, index]));
  }
  if (!isPlainObject(value)) return [];
  const shape = selectedVariant(schema, value) ?? schema;
  const known = propertiesOf(shape);
  if (acceptsAnyKey(shape)) {
    if (!KindGuard.IsRecord(shape)) return [];
    return Object.entries(value).flatMap(([key, inner]) => {
      const inside = childSchema(shape, key);
      return inside === undefined ? [] : findUnknownKeys(inside, inner, [...path, key]);
    });
  }
  if (known.size === 0) return []; // not an object schema: validation reports the type mismatch
  return Object.entries(value).flatMap(([key, inner]): UnknownKey[] => {
    const inside = known.get(key);
    if (inside !== undefined) return findUnknownKeys(inside, inner, [...path, key]);
    const suggestion = closestKey(key, [...known.keys()]);
    return [suggestion === undefined ? { path: [...path, key] } : { path: [...path, key], suggestion }];
  });
}

export function describeUnknownKey(file: ConfigFile, unknown: UnknownKey): string {
  const line = file.lineOf(unknown.path);
  const where = line === undefined ? file.file : `${file.file}:${line}`;
  const parent = unknown.path.slice(0, -1);
  const hint = unknown.suggestion === undefined ? '' : `; did you mean ${keyOf([...parent, unknown.suggestion])}?`;
  return `config: unknown key ${keyOf(unknown.path)} (from ${where})${hint}`;
}

/** The known key within edit distance 2 (or differing only in case/underscores), if any. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  const normalise = (name: string): string => name.replace(/[_-]/g, '').toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = normalise(name) === normalise(key) ? 0 : editDistance(name, key);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
