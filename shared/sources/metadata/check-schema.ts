/**
 * Checks a metadata file against its TypeBox schema and turns the first problem into an
 * error naming file, line and field. An unknown key is reported before anything else: a
 * misspelt key (`targest`) also makes the real one look missing, and the typo is the news.
 */
import { KindGuard, type Static, type TSchema } from '@sinclair/typebox';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { firstProblem } from '../../messages/schema-problem.ts';
import { compiledSchema, pointerPath } from '../../schema/index.ts';
import { problemError, type FieldPath, type YamlSource } from './yaml-source.ts';

/** Schema option read by the formatter: what a string failing `pattern` should have been. */
export { PATTERN_PHRASE } from '../../messages/schema-problem.ts';

/** The file's data typed by the schema. @throws BuildfleetError('metadata-invalid') */
export function checkSchema<T extends TSchema>(source: YamlSource, schema: T, what: string): Static<T> {
  const value = source.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw problemError(source, {
      path: [],
      reason: `must be a YAML mapping of ${what} settings${value === null ? ' (the file is empty)' : ''}`,
    });
  }
  const checker = compiledSchema(schema);
  if (checker.Check(value)) return value;
  const errors = [...checker.Errors(value)];
  const unknown = errors.find((error) => error.type === ValueErrorType.ObjectAdditionalProperties);
  if (unknown !== undefined) {
    const known = KindGuard.IsObject(unknown.schema) ? Object.keys(unknown.schema.properties) : [];
    throw problemError(source, {
      path: pointerPath(unknown.path),
      reason: known.length === 0 ? '' : `(known keys: ${known.join(', ')})`,
      unknownKey: true,
    });
  }
  const [error] = errors;
  if (error === undefined) throw problemError(source, { path: [], reason: 'does not match its schema' });
  const problem = firstProblem([error]);
  throw problemError(source, {
    path: problem === undefined ? pointerPath(error.path) : pathOfField(problem.field),
    reason: problem?.reason ?? error.message,
  });
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
