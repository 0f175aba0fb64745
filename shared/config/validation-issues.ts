import { KindGuard, type TSchema } from '@sinclair/typebox';
import { ValueErrorType } from '@sinclair/typebox/value';
import { compiledSchema, pointerPath } from '../schema/index.ts';
import { envNameFor } from './env-overrides.ts';
import { describeSource, keyOf, type ConfigOrigins, type ConfigPath } from './origins.ts';
import { describeSchema, isPlainObject, objectVariants, selectedVariant } from './schema-shape.ts';

/** One problem with the compiled config, phrased for the person who wrote it. */
export interface ConfigIssue {
  key: string;
  message: string;
  /** Where the offending value came from; undefined when the key was not set anywhere. */
  source?: string;
}

export interface IssueContext {
  origins: ConfigOrigins;
  prefix: string;
  file?: string;
}

/**
 * Validation errors as one message per key, e.g.
 * `config: runner.buildSlots must be an integer >= 1 (from BUILDFLEET_RUNNER_BUILD_SLOTS="x")`.
 * TypeBox reports a failed union only as "expected union"; for unions of objects told apart
 * by a literal (`storage.type`), the chosen variant is validated instead so the message names
 * the real key.
 */
export function collectIssues(
  schema: TSchema,
  value: unknown,
  context: IssueContext,
  base: ConfigPath = [],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of compiledSchema(schema).Errors(value)) {
    const path = [...base, ...pointerPath(error.path)];
    const key = keyOf(path);
    if (seen.has(key)) continue;
    seen.add(key);
    if (KindGuard.IsUnion(error.schema) && objectVariants(error.schema).length > 0 && isPlainObject(error.value)) {
      const variant = selectedVariant(error.schema, error.value);
      issues.push(
        ...(variant === undefined
          ? [discriminatorIssue(error.schema, error.value, path, context)]
          : collectIssues(variant, error.value, context, path)),
      );
      continue;
    }
    if (error.type === ValueErrorType.ObjectRequiredProperty || error.value === undefined) {
      issues.push(missingIssue(path, context));
      continue;
    }
    if (error.type === ValueErrorType.ObjectAdditionalProperties) {
      issues.push(sourced(path, `config: ${key} has a key that is not allowed here`, context));
      continue;
    }
    issues.push(sourced(path, `config: ${key} must be ${describeSchema(error.schema)}`, context));
  }
  return issues;
}

function sourced(path: ConfigPath, message: string, context: IssueContext): ConfigIssue {
  const source = context.origins.find(path);
  const from = source === undefined ? 'schema default' : describeSource(source);
  return { key: keyOf(path), message: `${message} (from ${from})`, source: from };
}

function missingIssue(path: ConfigPath, context: IssueContext): ConfigIssue {
  const names = path.filter((segment): segment is string => typeof segment === 'string');
  const where = context.file === undefined ? 'the config file' : context.file;
  return {
    key: keyOf(path),
    message: `config: ${keyOf(path)} is required (set it in ${where} or as ${envNameFor(names, context.prefix)})`,
  };
}

/** A union of objects where no variant's literal matches: name the literal key and its choices. */
function discriminatorIssue(
  schema: TSchema,
  value: Record<string, unknown>,
  path: ConfigPath,
  context: IssueContext,
): ConfigIssue {
  const literals = new Map<string, unknown[]>();
  for (const variant of objectVariants(schema)) {
    if (!KindGuard.IsObject(variant)) continue;
    for (const [key, property] of Object.entries(variant.properties)) {
      if (KindGuard.IsLiteral(property)) literals.set(key, [...(literals.get(key) ?? []), property.const]);
    }
  }
  const [discriminator, choices] = [...literals.entries()][0] ?? [];
  if (discriminator === undefined || choices === undefined) {
    return sourced(path, `config: ${keyOf(path)} must be ${describeSchema(schema)}`, context);
  }
  const keyPath = [...path, discriminator];
  if (value[discriminator] === undefined) return missingIssue(keyPath, context);
  const allowed = choices.map((choice) => JSON.stringify(choice)).join(', ');
  return sourced(keyPath, `config: ${keyOf(keyPath)} must be one of ${allowed}`, context);
}

/**
 * A schema option for rules between keys of one section (`Type.Object({...}, { crossCheck })`):
 * it gets the section's valid value and its key (`bus`) and returns the problems, each with the
 * path of the key to blame below the section. Run after the schema check succeeded.
 */
export type CrossCheck = (
  value: Record<string, unknown>,
  section: string,
) => Array<{ path: string[]; problem: string }>;

/** The cross-key problems of every section whose schema carries a `crossCheck` option. */
export function collectCrossKeyIssues(
  schema: TSchema,
  value: unknown,
  context: IssueContext,
  base: ConfigPath = [],
): ConfigIssue[] {
  if (!isPlainObject(value)) return [];
  const shape = selectedVariant(schema, value) ?? schema;
  const issues: ConfigIssue[] = [];
  const check: unknown = (shape as { crossCheck?: unknown }).crossCheck;
  if (typeof check === 'function') {
    for (const issue of (check as CrossCheck)(value, keyOf(base))) {
      const path = [...base, ...issue.path];
      issues.push(sourced(path, `config: ${keyOf(path)} ${issue.problem}`, context));
    }
  }
  if (KindGuard.IsObject(shape)) {
    for (const [key, property] of Object.entries(shape.properties)) {
      issues.push(...collectCrossKeyIssues(property, value[key], context, [...base, key]));
    }
  }
  return issues;
}
