/**
 * Checking values read off the bus against the message schemas. A message that fails is
 * reported as BuildfleetError('message-invalid') naming the field and the problem, which the
 * bus puts into the dead-letter record as the reason.
 */
import { BuildfleetError } from '../errors/index.ts';
import { submitRuleProblem } from './build-submit.ts';
import {
  MessageTypes,
  isMessageType,
  knownVersions,
  schemaOf,
  type AnyMessage,
  type MessageOf,
  type MessageType,
} from './registry.ts';
import { problemOf, type SchemaProblem } from './schema-problem.ts';

/** A problem whose reason reads as a sentence of its own rather than after a field name. */
type Problem = SchemaProblem & { standalone?: boolean };

/**
 * Checks that `value` is a valid message of `type` in a version this reader knows and returns
 * it typed (the same object: unknown fields stay on it).
 * @throws BuildfleetError('message-invalid') with context { type, field, reason }
 */
export function decodeMessage<T extends MessageType>(type: T, value: unknown): MessageOf<T> {
  const problem = findProblem(type, value);
  if (problem !== undefined) throw invalid(type, problem);
  return value as MessageOf<T>;
}

/** A decoder for one type, for a consumer to validate what it reads. */
export function decoderFor<T extends MessageType>(type: T): (value: unknown) => MessageOf<T> {
  return (value) => decodeMessage(type, value);
}

/** Like decodeMessage, for a value of any known type, chosen by its `type` field. */
export function decodeAnyMessage(value: unknown): AnyMessage {
  if (!isRecord(value)) throw invalid('message', { field: '', reason: `must be a JSON object (got ${kindOf(value)})` });
  const type = value.type;
  if (type === undefined) throw invalid('message', { field: 'type', reason: 'is required' });
  if (!isMessageType(type)) {
    throw invalid('message', {
      field: 'type',
      reason: `is unknown: ${show(type)} (known: ${MessageTypes.join(', ')})`,
    });
  }
  return decodeMessage(type, value);
}

/** True when `value` is a valid message of `type`; never throws. */
export function isMessage<T extends MessageType>(type: T, value: unknown): value is MessageOf<T> {
  return findProblem(type, value) === undefined;
}

function findProblem(type: MessageType, value: unknown): Problem | undefined {
  if (!isRecord(value)) return { field: '', reason: `must be a JSON object (got ${kindOf(value)})` };
  // `type` and `v` first: when they are wrong nothing else about the message means anything.
  if (value.type === undefined) return { field: 'type', reason: 'is required' };
  if (value.type !== type) return { field: 'type', reason: `must be "${type}" (got ${show(value.type)})` };
  if (value.v === undefined) return { field: 'v', reason: 'is required' };
  const schema = schemaOf(type, value.v);
  if (schema === undefined) {
    const known = knownVersions(type).map((version) => `v=${version}`);
    return {
      field: 'v',
      reason: `unsupported version v=${show(value.v)} (this reader understands ${known.join(', ')})`,
      standalone: true,
    };
  }
  // Compiled on first use, once per schema (shared/schema): importing this module costs nothing.
  return problemOf(schema, value) ?? ruleProblem(type, value);
}

/** The rules beyond the schema of a type (fields that go together), for a value that fits its schema. */
function ruleProblem(type: MessageType, value: unknown): Problem | undefined {
  if (type === 'build.submit') return submitRuleProblem(value as MessageOf<'build.submit'>);
  return undefined;
}

function invalid(type: string, problem: Problem): BuildfleetError {
  const { field, reason } = problem;
  let text: string;
  if (problem.standalone === true) text = `${type}: ${reason}`;
  else if (field === '') text = `${type}: message ${reason}`;
  else text = `${type}: field "${field}" ${reason}`;
  return new BuildfleetError('message-invalid', text, { context: { type, field, reason } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  const kind = typeof value;
  return /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

/** A short rendering of a value for an error message. */
function show(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
