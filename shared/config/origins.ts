import { isSecretKey, redactConfig, REDACTED } from './redact.ts';
import { isPlainObject } from './schema-shape.ts';

/** Where a config value came from, so an error can send the reader to the right place. */
export type ConfigSource =
  | { kind: 'defaults' }
  | { kind: 'file'; file: string; line?: number }
  /** `value` is the variable's text with secrets masked (see envSource). */
  | { kind: 'env'; name: string; value: string };

/** A key path inside the config: object keys and array indices. */
export type ConfigPath = readonly (string | number)[];

/** `['runner', 'buildSlots']` -> `runner.buildSlots`; `['bus', 'brokers', 0]` -> `bus.brokers[0]`. */
export function keyOf(path: ConfigPath): string {
  let key = '';
  for (const segment of path) {
    if (typeof segment === 'number') key += `[${segment}]`;
    else key += key === '' ? segment : `.${segment}`;
  }
  return key;
}

/** Remembers the source of every key set so far; later layers overwrite earlier ones. */
export class ConfigOrigins {
  private readonly byKey = new Map<string, ConfigSource>();

  /** Records `source` for `path` and for every key below it in `value`. */
  record(path: ConfigPath, value: unknown, source: (path: ConfigPath) => ConfigSource): void {
    // The root is not a key: a value nobody set must not look as if the file had set it.
    if (path.length > 0) this.byKey.set(keyOf(path), source(path));
    if (Array.isArray(value)) {
      value.forEach((item: unknown, index) => this.record([...path, index], item, source));
    } else if (isPlainObject(value)) {
      for (const [key, inner] of Object.entries(value)) this.record([...path, key], inner, source);
    }
  }

  /** The source of a key, or of its nearest ancestor that was set as a whole. */
  find(path: ConfigPath): ConfigSource | undefined {
    for (let length = path.length; length >= 1; length--) {
      const source = this.byKey.get(keyOf(path.slice(0, length)));
      if (source !== undefined) return source;
    }
    return undefined;
  }

  /** Every recorded key and its source, for debugging ("where did this value come from?"). */
  entries(): ReadonlyMap<string, ConfigSource> {
    return new Map(this.byKey);
  }
}

/** `/etc/buildfleet/runner.yml:12`, `BUILDFLEET_RUNNER_BUILD_SLOTS="x"` or `defaults`. */
export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'defaults':
      return 'defaults';
    case 'file':
      return source.line === undefined ? source.file : `${source.file}:${source.line}`;
    case 'env': {
      return `${source.name}=${JSON.stringify(source.value)}`;
    }
    default: {
      const unknownSource: never = source;
      return String(unknownSource);
    }
  }
}

/** The source record of a variable; its text is masked here so no later use can leak it. */
export function envSource(name: string, raw: string): ConfigSource {
  return { kind: 'env', name, value: isSecretKey(name) ? REDACTED : redactJsonText(raw) };
}

/** A variable holding a JSON object (`BUILDFLEET_BUS_SASL='{"password":...}'`) is shown with its secrets masked. */
function redactJsonText(text: string): string {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.stringify(redactConfig(JSON.parse(text) as unknown));
  } catch {
    // Unparsable text may still hold a secret: describe it instead of showing it.
    return `<${text.length} characters, not valid JSON>`;
  }
}
