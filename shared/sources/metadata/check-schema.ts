/**
 * Checks a metadata file against its TypeBox schema and turns the first problem into an
 * error naming file, line and field. An unknown key is reported before anything else: a
 * misspelt key (`targest`) also makes the real one look missing, and the typo is the news.
 */
import { KindGuard, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { firstProblem } from '../../messages/schema-problem.ts';
import { problemError, type FieldPath, type YamlSource } from './yaml-source.ts';

/** Schema option read by this module: what a string failing `pattern` should have been. */
export const PATTERN_PHRASE = 'patternPhrase';

const compiled = new Map<TSchema, TypeCheck<TSchema>>();

function checkerFor(schema: TSchema): TypeCheck<TSchema> {
  let checker = compiled.get(schema);
  if (checker === undefined) {
    checker = TypeCompiler.Compile(schema);
    compiled.set(schema, checker);
  }
  return checker;
}

/** The file's data typed by the schema. @throws BuildfleetError('metadata-invalid') */
export function checkSchema<T extends TSchema>(source: YamlSource, schema: T, what: string): Static<T> {
  const value = source.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw problemError(source, {
      path: [],
      reason: `must be a YAML mapping of ${what} settings${value === null ? ' (the file is empty)' : ''}`,
    });
  }
  const checker = checkerFor(schema);
  if (checker.Check(value)) return value;
  const errors = [...checker.Errors(value)];
  const unknown = errors.find((error) => error.type === ValueErrorType.ObjectAdditionalProperties);
  if (unknown !== undefined) {
    const known = KindGuard.IsObject(unknown.schema) ? Object.keys(unknown.schema.properties) : [];
    throw problemError(source, {
      path: pathOf(unknown.path),
      reason: known.length === 0 ? '' : `(known keys: ${known.join(', ')})`,
      unknownKey: true,
    });
  }
  const [error] = errors;
  if (error === undefined) throw problemError(source, { path: [], reason: 'does not match its schema' });
  const phrase = patternPhrase(error);
  if (phrase !== undefined) throw problemError(source, { path: pathOf(error.path), reason: `must be ${phrase}` });
  const problem = firstProblem([error]);
  throw problemError(source, {
    path: problem === undefined ? pathOf(error.path) : pathOfField(problem.field),
    reason: problem?.reason ?? error.message,
  });
}

function patternPhrase(error: ValueError): string | undefined {
  if (error.type !== ValueErrorType.StringPattern) return undefined;
  const phrase: unknown = error.schema[PATTERN_PHRASE];
  return typeof phrase === 'string' ? phrase : undefined;
}

/** A JSON pointer as TypeBox reports it (`/targets/0/arch`) -> ['targets', 0, 'arch']. */
function pathOf(pointer: string): FieldPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/** `targets[0].arch` (as schema-problem names fields) -> ['targets', 0, 'arch']. */
function pathOfField(field: string): FieldPath {
  const path: (string | number)[] = [];
  for (const match of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) path.push(Number(match[2]));
    else if (match[1] !== undefined) path.push(match[1]);
  }
  return path;
}
