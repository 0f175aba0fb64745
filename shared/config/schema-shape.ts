import { KindGuard, type TSchema } from '@sinclair/typebox';

/**
 * Read-only questions about the shape of a TypeBox schema, shared by the file check, the
 * environment mapping and the error messages. Only the kinds a config schema uses are
 * understood: objects, unions (of objects or literals), arrays, records and scalars.
 */

/** The object variants reachable at this schema: itself, or the object members of a union. */
export function objectVariants(schema: TSchema): TSchema[] {
  if (KindGuard.IsObject(schema)) return [schema];
  if (KindGuard.IsUnion(schema)) return schema.anyOf.flatMap((member) => objectVariants(member));
  return [];
}

/** Property schemas of an object, or of every object variant of a union (first variant wins). */
export function propertiesOf(schema: TSchema): Map<string, TSchema> {
  const properties = new Map<string, TSchema>();
  for (const variant of objectVariants(schema)) {
    if (!KindGuard.IsObject(variant)) continue;
    for (const [key, property] of Object.entries(variant.properties)) {
      if (!properties.has(key)) properties.set(key, property);
    }
  }
  return properties;
}

/**
 * For a union of objects told apart by a literal property (`type: 'fs' | 's3'`), the variant
 * the value selects; undefined when the value selects none or the schema is not such a union.
 */
export function selectedVariant(schema: TSchema, value: unknown): TSchema | undefined {
  if (!KindGuard.IsUnion(schema) || !isPlainObject(value)) return undefined;
  for (const variant of schema.anyOf) {
    if (!KindGuard.IsObject(variant)) continue;
    const matches = Object.entries(variant.properties).some(
      ([key, property]) => KindGuard.IsLiteral(property) && value[key] === property.const,
    );
    if (matches) return variant;
  }
  return undefined;
}

/** The schema at a key below this one, looking through union variants. */
export function childSchema(schema: TSchema, key: string, value?: unknown): TSchema | undefined {
  const variant = selectedVariant(schema, value);
  if (variant !== undefined && KindGuard.IsObject(variant)) return variant.properties[key];
  const fromObjects = propertiesOf(schema).get(key);
  if (fromObjects !== undefined) return fromObjects;
  if (KindGuard.IsRecord(schema)) return Object.values(schema.patternProperties)[0];
  return undefined;
}

/** Whether an object may carry keys its schema does not name (records, or additionalProperties not false). */
export function acceptsAnyKey(schema: TSchema): boolean {
  if (KindGuard.IsRecord(schema)) return true;
  return objectVariants(schema).some(
    (variant) => variant.additionalProperties !== false && variant.additionalProperties !== undefined,
  );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short English description of what a value must be, for error messages ("an integer >= 1"). */
export function describeSchema(schema: TSchema): string {
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) {
    const bounds = [
      schema.minimum === undefined ? '' : `>= ${schema.minimum}`,
      schema.exclusiveMinimum === undefined ? '' : `> ${schema.exclusiveMinimum}`,
      schema.maximum === undefined ? '' : `<= ${schema.maximum}`,
      schema.exclusiveMaximum === undefined ? '' : `< ${schema.exclusiveMaximum}`,
    ].filter((bound) => bound !== '');
    return [KindGuard.IsInteger(schema) ? 'an integer' : 'a number', bounds.join(' and ')].filter(Boolean).join(' ');
  }
  if (KindGuard.IsString(schema)) {
    if (schema.pattern !== undefined) return `a string matching ${schema.pattern}`;
    if (schema.format !== undefined) return `a string in ${schema.format} format`;
    const minLength = schema.minLength ?? 0;
    if (minLength === 1) return 'a non-empty string';
    return minLength > 1 ? `a string of at least ${minLength} characters` : 'a string';
  }
  if (KindGuard.IsBoolean(schema)) return 'true or false';
  if (KindGuard.IsLiteral(schema)) return JSON.stringify(schema.const);
  if (KindGuard.IsArray(schema)) {
    const minItems = schema.minItems ?? 0;
    const list = minItems > 0 ? `a list of at least ${minItems}` : 'a list';
    return `${list} of ${plural(describeSchema(schema.items))}`;
  }
  if (KindGuard.IsUnion(schema)) {
    if (schema.anyOf.every((member) => KindGuard.IsLiteral(member))) {
      return `one of ${schema.anyOf.map((member) => JSON.stringify(member.const)).join(', ')}`;
    }
    return schema.anyOf.map((member) => describeSchema(member)).join(' or ');
  }
  if (KindGuard.IsObject(schema) || KindGuard.IsRecord(schema)) return 'a mapping';
  return 'valid';
}

function plural(description: string): string {
  return description.replace(/^an? /, '').replace(/^(integer|number|string|list|mapping)/, '$1s');
}
