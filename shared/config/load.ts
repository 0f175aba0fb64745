import { KindGuard, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BuildfleetError } from '../errors/index.ts';
import { compiledSchema } from '../schema/index.ts';
import { describeUnknownKey, findUnknownKeys, readConfigFile } from './config-file.ts';
import { envOverrides } from './env-overrides.ts';
import { ConfigOrigins, envSource, type ConfigPath, type ConfigSource } from './origins.ts';
import { isPlainObject, selectedVariant } from './schema-shape.ts';
import { collectCrossKeyIssues, collectIssues, type ConfigIssue } from './validation-issues.ts';

/** Nested partial of a config type, for `defaults`. Arrays are replaced as a whole. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export interface LoadConfigOptions<S extends TSchema> {
  /** YAML file to read (the service's `--config`). @default no file */
  file?: string;
  /** The environment to take overrides from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Prefix of the variables that override keys. @default 'BUILDFLEET_' */
  prefix?: string;
  /** Values that replace the schema's defaults but yield to the file and the environment. */
  defaults?: DeepPartial<Static<S>>;
}

export interface LoadedConfig<S extends TSchema> {
  config: Static<S>;
  /** Prefixed variables that matched no key; ignored because other services share the env. */
  ignoredEnv: string[];
  /** Source of every key set by defaults, the file or the environment (schema defaults are not listed). */
  sources: ReadonlyMap<string, ConfigSource>;
}

/**
 * Builds a service's config: schema defaults <- `defaults` <- YAML file <- environment,
 * then validates it. The result has every field the schema declares (nested objects are
 * created so their defaults apply). Unknown keys in the file and invalid values throw
 * BuildfleetError('config-invalid') naming every offending key and where it came from.
 */
export function loadConfig<S extends TSchema>(schema: S, options: LoadConfigOptions<S> = {}): Static<S> {
  return loadConfigWithSources(schema, options).config;
}

/** loadConfig, plus where each value came from and which variables were ignored (for debug logs). */
export function loadConfigWithSources<S extends TSchema>(
  schema: S,
  options: LoadConfigOptions<S> = {},
): LoadedConfig<S> {
  // The one place in buildfleet where configuration is read from the environment.
  const env = options.env ?? process.env;
  const prefix = options.prefix ?? 'BUILDFLEET_';
  const origins = new ConfigOrigins();
  let merged: Record<string, unknown> = {};

  if (options.defaults !== undefined) {
    const defaults: unknown = structuredClone(options.defaults);
    if (isPlainObject(defaults)) {
      merged = mergeInto(merged, defaults);
      origins.record([], defaults, () => ({ kind: 'defaults' }));
    }
  }

  if (options.file !== undefined) {
    const file = readConfigFile(options.file);
    const unknownKeys = findUnknownKeys(schema, file.value);
    if (unknownKeys.length > 0) {
      const messages = unknownKeys.map((unknown) => describeUnknownKey(file, unknown));
      throw new BuildfleetError('config-invalid', messages.join('\n'), {
        context: { file: file.file, unknownKeys: unknownKeys.map((unknown) => unknown.path.join('.')) },
      });
    }
    merged = mergeInto(merged, file.value);
    origins.record([], file.value, (path) => fileSource(file.file, file.lineOf(path)));
  }

  const fromEnv = envOverrides(schema, env, prefix);
  for (const override of fromEnv.overrides) {
    merged = setIn(merged, override.path, override.value);
    const source = envSource(override.name, override.raw);
    origins.record(override.path, override.value, () => source);
  }

  prepareDefaults(schema, merged);
  const compiled: unknown = Value.Default(schema, merged);
  if (!compiledSchema(schema).Check(compiled)) {
    const issues = collectIssues(schema, compiled, {
      origins,
      prefix,
      ...(options.file ? { file: options.file } : {}),
    });
    throw invalidConfig(issues);
  }
  const crossIssues = collectCrossKeyIssues(schema, compiled, {
    origins,
    prefix,
    ...(options.file ? { file: options.file } : {}),
  });
  if (crossIssues.length > 0) throw invalidConfig(crossIssues);
  return { config: compiled, ignoredEnv: fromEnv.ignored, sources: origins.entries() };
}

function fileSource(file: string, line: number | undefined): ConfigSource {
  return line === undefined ? { kind: 'file', file } : { kind: 'file', file, line };
}

function invalidConfig(issues: ConfigIssue[]): BuildfleetError {
  const messages = issues.length > 0 ? issues.map((issue) => issue.message) : ['config: invalid configuration'];
  return new BuildfleetError('config-invalid', messages.join('\n'), { context: { issues } });
}

/** Deep merge of plain objects; arrays and scalars from `layer` replace what was there. */
function mergeInto(target: Record<string, unknown>, layer: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(layer)) {
    const existing = target[key];
    target[key] = isPlainObject(existing) && isPlainObject(value) ? mergeInto(existing, value) : value;
  }
  return target;
}

function setIn(target: Record<string, unknown>, path: ConfigPath, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return isPlainObject(value) ? mergeInto(target, value) : target;
  const key = String(head);
  if (rest.length === 0) {
    const existing = target[key];
    target[key] = isPlainObject(existing) && isPlainObject(value) ? mergeInto(existing, value) : value;
    return target;
  }
  const existing = target[key];
  target[key] = setIn(isPlainObject(existing) ? existing : {}, rest, value);
  return target;
}

/**
 * Two gaps in TypeBox's Value.Default, filled before it runs: it only fills defaults inside
 * objects that exist, so every required nested object (not optional ones) is created and
 * `runner.buildSlots` gets its default without a `runner:` section; and for a union it only
 * applies the defaults of a variant that then validates, so an invalid `storage: {type: s3}`
 * would also report every defaulted key as missing. The variant the value selects gets its
 * defaults here.
 */
function prepareDefaults(schema: TSchema, value: Record<string, unknown>): void {
  const shape = selectedVariant(schema, value) ?? schema;
  if (shape !== schema) Value.Default(shape, value);
  if (!KindGuard.IsObject(shape)) return;
  for (const [key, property] of Object.entries(shape.properties)) {
    if (value[key] === undefined && KindGuard.IsObject(property) && !KindGuard.IsOptional(property)) value[key] = {};
    const inner = value[key];
    if (isPlainObject(inner)) prepareDefaults(property, inner);
  }
}
