/**
 * Every message type, driven by its schema: each example passes, each required field (at any
 * depth) missing fails naming that field, each field of the wrong type fails naming its path,
 * unknown fields are kept, unknown versions are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { messageExamples } from '../fixtures/messages.ts';
import {
  MessageTypes,
  decodeAnyMessage,
  decodeMessage,
  decoderFor,
  isMessage,
  messageSchemas,
  type MessageType,
} from '../../shared/messages/index.ts';

type Path = (string | number)[];

interface SchemaNode {
  path: Path;
  /** True when the schema of the parent object lists this field as required. */
  required: boolean;
}

/** Every field the value holds, and every required field, reached through the schema. */
function nodesOf(schema: TSchema, value: unknown, path: Path = []): SchemaNode[] {
  if (KindGuard.IsUnion(schema)) {
    const variant = schema.anyOf.find((candidate) => Value.Check(candidate, value));
    return variant === undefined ? [] : nodesOf(variant, value, path);
  }
  if (KindGuard.IsObject(schema) && isRecord(value)) {
    const required = schema.required ?? [];
    const nodes: SchemaNode[] = [];
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (!(key in value)) continue;
      nodes.push({ path: [...path, key], required: required.includes(key) });
      nodes.push(...nodesOf(sub, value[key], [...path, key]));
    }
    return nodes;
  }
  if (KindGuard.IsArray(schema) && Array.isArray(value)) {
    return value.flatMap((item: unknown, index) => [
      { path: [...path, index], required: false },
      ...nodesOf(schema.items, item, [...path, index]),
    ]);
  }
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ['targets', 0, 'arch'] -> 'targets[0].arch', the way errors name fields. */
function dotted(path: Path): string {
  return path
    .map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`))
    .join('');
}

/** A deep copy of `value` with `change` applied to the parent of `path`. */
function edited(
  value: unknown,
  path: Path,
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
) {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
  const last = path.at(-1);
  assert.ok(last !== undefined);
  change(parent, last);
  return copy;
}

/** A value no field accepting `value`'s type accepts (`key` of deadletter is string or null). */
function wrongTypeFor(value: unknown): unknown {
  return typeof value === 'string' || value === null ? 42 : 'not-the-right-type';
}

/** Decodes expecting message-invalid and returns the error. */
function rejection(type: MessageType, value: unknown) {
  try {
    decodeMessage(type, value);
  } catch (error) {
    assert.ok(isBuildfleetError(error, 'message-invalid'), `expected message-invalid, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected the message to be rejected: ${JSON.stringify(value)}`);
}

for (const type of MessageTypes) {
  describe(`message ${type}`, () => {
    const examples: readonly unknown[] = messageExamples[type];
    const schema: TSchema = messageSchemas[type];

    it('has examples, each accepted as it is and after a JSON round trip', () => {
      assert.ok(examples.length > 0);
      for (const example of examples) {
        assert.equal(decodeMessage(type, example), example);
        assert.deepEqual(decodeMessage(type, JSON.parse(JSON.stringify(example))), example);
        assert.equal(decodeAnyMessage(example), example);
        assert.equal(decoderFor(type)(example), example);
        assert.ok(isMessage(type, example));
      }
    });

    it('rejects each missing required field, at any depth, naming it', () => {
      let checked = 0;
      for (const example of examples) {
        for (const node of nodesOf(schema, example).filter((candidate) => candidate.required)) {
          const value = edited(example, node.path, (parent, key) => delete parent[key]);
          const error = rejection(type, value);
          const field = dotted(node.path);
          assert.ok(error.message.startsWith(`${type}: `), error.message);
          assert.ok(error.message.includes(`"${field}"`), `"${error.message}" should name ${field}`);
          assert.equal(error.context.type, type);
          assert.equal(isMessage(type, value), false);
          checked += 1;
        }
      }
      assert.ok(checked >= 4, `only ${checked} required fields found`);
    });

    it('rejects each field of the wrong type, naming its path', () => {
      for (const example of examples) {
        for (const node of nodesOf(schema, example).filter((candidate) => candidate.path[0] !== 'v')) {
          const value = edited(example, node.path, (parent, key) => (parent[key] = wrongTypeFor(parent[key])));
          const error = rejection(type, value);
          const field = dotted(node.path);
          assert.equal(error.context.field, field, error.message);
          assert.ok(error.message.includes(`field "${field}" `), error.message);
        }
      }
    });

    it('tolerates and keeps unknown fields, at the top and inside nested objects', () => {
      for (const example of examples) {
        let value = edited(example, ['fromTheFuture'], (parent, key) => (parent[key] = { any: ['thing'] }));
        const objects = nodesOf(schema, value).filter((node) => isRecord(at(value, node.path)));
        for (const node of objects) value = edited(value, [...node.path, 'added'], (parent, key) => (parent[key] = 1));
        const expected = structuredClone(value);
        assert.deepEqual(decodeMessage(type, value), expected);
      }
    });

    it('refuses versions it does not know, saying which it understands', () => {
      const example = examples[0];
      for (const v of [2, 0, '1', 1.5]) {
        const value = edited(example, ['v'], (parent, key) => (parent[key] = v));
        const error = rejection(type, value);
        assert.equal(
          error.message,
          `${type}: unsupported version v=${JSON.stringify(v)} (this reader understands v=1)`,
        );
        assert.equal(error.context.field, 'v');
      }
    });

    it('refuses a message of another type', () => {
      const other: MessageType = type === 'build.submit' ? 'build.event' : 'build.submit';
      const error = rejection(other, examples[0]);
      assert.equal(error.message, `${other}: field "type" must be "${other}" (got "${type}")`);
    });
  });
}

function at(value: unknown, path: Path): unknown {
  let current = value;
  for (const segment of path) current = (current as Record<string | number, unknown>)[segment];
  return current;
}
