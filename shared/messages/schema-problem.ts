/**
 * The one formatter of validation errors: turns TypeBox's errors into one problem a person
 * can act on: the field (as a dotted path, `targets[0].arch`) and what is wrong with it
 * (`must be a string`). Messages, metadata files, scheduler state records and the CLI's checks
 * of API answers and `--store` files all phrase their problems with it. (The config loader
 * reports every key at once, with where each value came from: shared/config/validation-issues.ts.)
 */
import { KindGuard, type Static, type TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { compiledSchema, pointerPath } from '../schema/index.ts';
import { patternPhrases } from './common.ts';

/**
 * Schema option: what a string failing its `pattern` should have been, e.g.
 * `Type.String({ pattern, [PATTERN_PHRASE]: 'a dist name of letters, digits, ...' })`.
 * Patterns of the messages have theirs in `patternPhrases` (common.ts) instead, so that the
 * published JSON Schemas hold no keyword of ours.
 */
export const PATTERN_PHRASE = 'patternPhrase';

export interface SchemaProblem {
  /** Dotted path of the offending field; '' for the message itself. */
  field: string;
  /** What is wrong, phrased to follow the field name: "is required", "must be a string". */
  reason: string;
}

/** The first problem of `value` against `schema` (compiled once), or undefined when it fits. */
export function problemOf(schema: TSchema, value: unknown): SchemaProblem | undefined {
  const check = compiledSchema(schema);
  if (check.Check(value)) return undefined;
  return firstProblem(check.Errors(value)) ?? { field: '', reason: 'does not match its schema' };
}

/** `value` typed by `schema` when it fits; else throws what `fail` makes of its first problem. */
export function checkedValue<T extends TSchema>(
  schema: T,
  value: unknown,
  fail: (problem: SchemaProblem) => Error,
): Static<T> {
  if (compiledSchema(schema).Check(value)) return value;
  throw fail(problemOf(schema, value) ?? { field: '', reason: 'does not match its schema' });
}

/** `targets[0].arch must be a string`; a problem of the value itself is its reason alone. */
export function describeProblem(problem: SchemaProblem): string {
  return problem.field === '' ? problem.reason : `${problem.field} ${problem.reason}`;
}

/** The first problem among the errors, or undefined when there are none. */
export function firstProblem(errors: Iterable<ValueError>): SchemaProblem | undefined {
  for (const error of errors) return explain(error);
  return undefined;
}

/** `/targets/0/arch` (a JSON pointer, as TypeBox reports paths) -> `targets[0].arch`. */
export function fieldName(path: string): string {
  let name = '';
  for (const segment of pointerPath(path)) {
    name += typeof segment === 'number' ? `[${segment}]` : name === '' ? segment : `.${segment}`;
  }
  return name;
}

function explain(error: ValueError): SchemaProblem {
  if (error.type === ValueErrorType.Union) return explainUnion(error);
  return { field: fieldName(error.path), reason: reasonFor(error) };
}

type Phrase = (schema: TSchema) => string;

const fixed =
  (text: string): Phrase =>
  () =>
    text;
const minimum: Phrase = (schema) => `must be >= ${numberKeyword(schema, 'minimum')}`;
const maximum: Phrase = (schema) => `must be <= ${numberKeyword(schema, 'maximum')}`;

/** Reasons for the error kinds our schemas can produce (a table: ValueErrorType has 60+ members). */
const reasons: Partial<Record<ValueErrorType, Phrase>> = {
  [ValueErrorType.ObjectRequiredProperty]: fixed('is required'),
  [ValueErrorType.String]: fixed('must be a string'),
  [ValueErrorType.Number]: fixed('must be a number'),
  [ValueErrorType.Integer]: fixed('must be an integer'),
  [ValueErrorType.Boolean]: fixed('must be a boolean'),
  [ValueErrorType.Null]: fixed('must be null'),
  [ValueErrorType.Object]: fixed('must be an object'),
  [ValueErrorType.Array]: fixed('must be an array'),
  [ValueErrorType.Literal]: (schema) => `must be ${JSON.stringify(keyword(schema, 'const'))}`,
  [ValueErrorType.StringMinLength]: (schema) => {
    const min = numberKeyword(schema, 'minLength');
    return min === 1 ? 'must not be empty' : `must be at least ${min} characters long`;
  },
  [ValueErrorType.StringMaxLength]: (schema) => `must be at most ${numberKeyword(schema, 'maxLength')} characters long`,
  [ValueErrorType.StringPattern]: (schema) => {
    const phrase = keyword(schema, PATTERN_PHRASE);
    if (typeof phrase === 'string') return `must be ${phrase}`;
    const pattern = String(keyword(schema, 'pattern'));
    return `must be ${patternPhrases[pattern] ?? `a string matching /${pattern}/`}`;
  },
  [ValueErrorType.IntegerMinimum]: minimum,
  [ValueErrorType.NumberMinimum]: minimum,
  [ValueErrorType.IntegerMaximum]: maximum,
  [ValueErrorType.NumberMaximum]: maximum,
  [ValueErrorType.ArrayMinItems]: (schema) => `must have at least ${items(numberKeyword(schema, 'minItems'))}`,
  [ValueErrorType.ArrayMaxItems]: (schema) => `must have at most ${items(numberKeyword(schema, 'maxItems'))}`,
};

function reasonFor(error: ValueError): string {
  const phrase = reasons[error.type];
  // Kinds our schemas do not use fall back to TypeBox's own wording.
  return phrase === undefined ? `is invalid: ${error.message}` : phrase(error.schema);
}

/**
 * A union is either a choice of values (enum, string-or-null), described by listing the
 * choices, or a choice of object shapes told apart by which fields are present (info.query):
 * then the shape the value was meant to be is picked and its own first error reported.
 */
function explainUnion(error: ValueError): SchemaProblem {
  const field = fieldName(error.path);
  const variants = unionVariants(error.schema);
  const value: unknown = error.value;
  if (variants.length > 0 && variants.every((variant) => KindGuard.IsObject(variant)) && isRecord(value)) {
    const chosen = chooseShape(variants, value);
    if (chosen.index >= 0) {
      const inner = error.errors[chosen.index];
      const problem = inner === undefined ? undefined : firstProblem(inner);
      if (problem !== undefined) return problem;
    }
    return { field, reason: `must have one of the fields ${joinAlternatives(chosen.markers.map(quote))}` };
  }
  const consts = variants.map((variant) => keyword(variant, 'const'));
  if (consts.every((value) => value !== undefined)) {
    return { field, reason: `must be one of ${consts.map((value) => JSON.stringify(value)).join(', ')}` };
  }
  return { field, reason: `must be ${joinAlternatives(variants.map(describeSchema))}` };
}

/** The first shape all of whose distinguishing required fields are present; -1 when none. */
function chooseShape(variants: TSchema[], value: Record<string, unknown>): { index: number; markers: string[] } {
  const requiredLists = variants.map((variant) => stringList(keyword(variant, 'required')));
  const common = requiredLists.reduce((shared, list) => shared.filter((name) => list.includes(name)));
  const distinguishing = requiredLists.map((list) => list.filter((name) => !common.includes(name)));
  const index = distinguishing.findIndex((names) => names.length > 0 && names.every((name) => name in value));
  return { index, markers: distinguishing.flat() };
}

function describeSchema(schema: TSchema): string {
  const constValue = keyword(schema, 'const');
  if (constValue !== undefined) return JSON.stringify(constValue);
  switch (keyword(schema, 'type')) {
    case 'string':
      return 'a string';
    case 'null':
      return 'null';
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    default:
      return 'a valid value';
  }
}

function unionVariants(schema: TSchema): TSchema[] {
  return KindGuard.IsUnion(schema) ? schema.anyOf : [];
}

function keyword(schema: TSchema, name: string): unknown {
  const value: unknown = schema[name];
  return value;
}

function numberKeyword(schema: TSchema, name: string): number | undefined {
  const value = keyword(schema, name);
  return typeof value === 'number' ? value : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function items(count: number | undefined): string {
  return count === 1 ? '1 item' : `${count} items`;
}

function quote(name: string): string {
  return `"${name}"`;
}

/** ['a', 'b', 'c'] -> 'a, b or c' */
function joinAlternatives(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
