/**
 * Renders the TypeBox schemas as standalone JSON Schema (draft 2020-12) documents for tools in
 * other languages: `$id` and `title` added, unions of string constants written as `enum`,
 * `format: "date-time"` beside the date-time pattern (an annotation for code generators; the
 * pattern is what validates), and keys in one fixed order so the output only changes when a
 * schema does.
 */
import type { TSchema } from '@sinclair/typebox';
import { ISO_DATE_TIME_PATTERN } from './common.ts';
import { currentVersions, knownVersions, messageVersions, schemaOf, type MessageType } from './registry.ts';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** `$id` of one version of a message; a URN because the schemas are not served anywhere. */
export function schemaId(type: MessageType, version: number): string {
  return `urn:buildfleet:message:${type}:v${version}`;
}

/**
 * File name under docs/schemas: `<type>.json` for the version producers write, and
 * `<type>.v<n>.json` for older versions readers still accept.
 */
export function schemaFileName(type: MessageType, version: number): string {
  return version === currentVersions[type] ? `${type}.json` : `${type}.v${version}.json`;
}

/** Every schema file: name -> content (pretty-printed, trailing newline). */
export function renderSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const type of Object.keys(messageVersions) as MessageType[]) {
    for (const version of knownVersions(type)) {
      const schema = schemaOf(type, version);
      if (schema === undefined) continue;
      files.set(schemaFileName(type, version), `${JSON.stringify(toJsonSchema(type, version, schema), null, 2)}\n`);
    }
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

export function toJsonSchema(type: MessageType, version: number, schema: TSchema): JsonObject {
  // The JSON round trip drops TypeBox's symbol-keyed bookkeeping ([Kind], [OptionalKind]).
  const plain = JSON.parse(JSON.stringify(schema)) as JsonObject;
  const document: JsonObject = {
    $schema: JSON_SCHEMA_DIALECT,
    $id: schemaId(type, version),
    title: `${type} v${version}`,
    ...plain,
  };
  return canonical(document);
}

/** Where a keyword goes; unlisted keywords follow in alphabetical order. */
const keywordOrder = [
  '$schema',
  '$id',
  'title',
  'description',
  'type',
  'format',
  'const',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'items',
  'required',
  'properties',
  'anyOf',
];

function rank(key: string): number {
  const index = keywordOrder.indexOf(key);
  return index < 0 ? keywordOrder.length : index;
}

/** Sorts the keywords of a schema and of every schema inside it; property maps keep declaration order. */
function canonical(schema: JsonObject): JsonObject {
  const simplified = withDateTimeFormat(enumFromConstUnion(schema));
  const keys = Object.keys(simplified).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const result: JsonObject = {};
  for (const key of keys) {
    const value = simplified[key] ?? null;
    if (key === 'properties' && isObject(value)) {
      result[key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, isObject(sub) ? canonical(sub) : sub]),
      );
    } else if (key === 'items' && isObject(value)) {
      result[key] = canonical(value);
    } else if (key === 'anyOf' && Array.isArray(value)) {
      result[key] = value.map((sub) => (isObject(sub) ? canonical(sub) : sub));
    } else {
      result[key] = value;
    }
  }
  return result;
}

/** `anyOf: [{const:'a', type:'string'}, ...]` -> `type: 'string', enum: ['a', ...]`, the usual spelling. */
function enumFromConstUnion(schema: JsonObject): JsonObject {
  const variants = schema.anyOf;
  if (!Array.isArray(variants) || variants.length === 0) return schema;
  const values: string[] = [];
  for (const variant of variants) {
    if (!isObject(variant) || variant.type !== 'string' || typeof variant.const !== 'string') return schema;
    if (Object.keys(variant).length !== 2) return schema;
    values.push(variant.const);
  }
  const { anyOf: _anyOf, ...rest } = schema;
  return { ...rest, type: 'string', enum: values };
}

function withDateTimeFormat(schema: JsonObject): JsonObject {
  return schema.pattern === ISO_DATE_TIME_PATTERN ? { ...schema, format: 'date-time' } : schema;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
