/**
 * Checking values against TypeBox schemas, in one place: every schema is compiled once
 * (TypeCompiler) on first use and the check is kept, so importing costs nothing and a check
 * costs no interpretation. Messages, config, metadata files, state records and API answers
 * all check through here; shared/messages/schema-problem.ts phrases what a check finds.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

// Keyed by the schema object: schemas are module constants, and a WeakMap lets a made-up one go.
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** The compiled check of `schema`, compiled on its first use. */
export function compiledSchema<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

/** `/targets/0/arch` (a JSON pointer, as TypeBox reports paths) -> ['targets', 0, 'arch']. */
export function pointerPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}
