import { KindGuard, Type, type TSchema } from '@sinclair/typebox';
import { compiledSchema } from '../schema/index.ts';
import { propertiesOf } from './schema-shape.ts';

/** One environment variable mapped onto a config key, its text converted by the key's type. */
export interface EnvOverride {
  name: string;
  raw: string;
  path: string[];
  value: unknown;
}

export interface EnvOverrides {
  overrides: EnvOverride[];
  /** Variables with the prefix that name no key of this schema (other services share the env). */
  ignored: string[];
}

/**
 * Maps `<prefix><KEY_PATH>` variables onto schema keys: `BUILDFLEET_RUNNER_BUILD_SLOTS` ->
 * `runner.buildSlots`. Each key is spelled in UPPER_SNAKE (`buildSlots` -> `BUILD_SLOTS`)
 * and path segments are joined by `_`; the schema is walked trying the longest match first,
 * with backtracking, so `BUILD_SLOTS` finds `buildSlots` before a `build.slots` would.
 * Overrides come back shallowest first so `BUILDFLEET_BUS` (JSON) applies before `BUILDFLEET_BUS_TLS_CA_FILE`.
 */
export function envOverrides(schema: TSchema, env: NodeJS.ProcessEnv, prefix: string): EnvOverrides {
  const overrides: EnvOverride[] = [];
  const ignored: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.toUpperCase().startsWith(prefix.toUpperCase())) continue;
    const segments = name.slice(prefix.length).toUpperCase().split('_').filter(Boolean);
    const resolved = segments.length === 0 ? undefined : resolvePath(schema, segments);
    if (resolved === undefined) {
      ignored.push(name);
      continue;
    }
    overrides.push({ name, raw, path: resolved.path, value: convertEnvValue(resolved.schema, raw) });
  }
  overrides.sort((a, b) => a.path.length - b.path.length || a.name.localeCompare(b.name));
  return { overrides, ignored: ignored.sort() };
}

/** The variable name for a key path: `['runner', 'buildSlots']` -> `BUILDFLEET_RUNNER_BUILD_SLOTS`. */
export function envNameFor(path: readonly string[], prefix = 'BUILDFLEET_'): string {
  return prefix + path.map(upperSnake).join('_');
}

/** `buildSlots` -> `BUILD_SLOTS`, `accessKeyId` -> `ACCESS_KEY_ID`, `topic_prefix` -> `TOPIC_PREFIX`. */
function upperSnake(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toUpperCase();
}

function resolvePath(schema: TSchema, segments: readonly string[]): { path: string[]; schema: TSchema } | undefined {
  if (segments.length === 0) return { path: [], schema };
  const properties = propertiesOf(schema);
  for (let take = segments.length; take >= 1; take--) {
    const wanted = segments.slice(0, take).join('_');
    for (const [key, inner] of properties) {
      if (upperSnake(key) !== wanted) continue;
      const rest = resolvePath(inner, segments.slice(take));
      if (rest !== undefined) return { path: [key, ...rest.path], schema: rest.schema };
    }
  }
  return undefined;
}

/**
 * Text -> value by the target type. Text that does not convert is returned unchanged, so
 * validation reports it with the variable's name and value instead of a parse error here.
 */
export function convertEnvValue(schema: TSchema, raw: string): unknown {
  const text = raw.trim();
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) {
    return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : raw;
  }
  if (KindGuard.IsBoolean(schema)) {
    const lower = text.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    return raw;
  }
  if (KindGuard.IsLiteral(schema)) {
    if (typeof schema.const === 'number') return convertEnvValue(Type.Number(), raw);
    if (typeof schema.const === 'boolean') return convertEnvValue(Type.Boolean(), raw);
    return raw;
  }
  if (KindGuard.IsArray(schema)) {
    if (text.startsWith('[')) return parseJson(text) ?? raw;
    if (text === '') return [];
    // Empty items are dropped: a trailing comma is a slip, not an empty broker name.
    const items = text.split(',').map((item) => item.trim());
    return items.filter((item) => item !== '').map((item) => convertEnvValue(schema.items, item));
  }
  if (KindGuard.IsObject(schema) || KindGuard.IsRecord(schema)) return parseJson(text) ?? raw;
  if (KindGuard.IsUnion(schema)) {
    for (const member of schema.anyOf) {
      const converted = convertEnvValue(member, raw);
      if (compiledSchema(member).Check(converted)) return converted;
    }
    return text.startsWith('{') ? (parseJson(text) ?? raw) : raw;
  }
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
