/**
 * Secret masking for configs and log lines. A key is secret when its name contains one of
 * these words (case and `_`/`-` ignored), so `sasl.password`, `secretAccessKey`,
 * `GITHUB_TOKEN` and `signing.privateKey` are all caught without listing every path; a
 * string holding a PEM/PGP private key block is masked whatever its key is called.
 */
const SECRET_WORDS = [
  'password',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'keymaterial',
  'authorization',
  'credential',
  'cookie',
] as const;

/**
 * Exact key names the logger redacts (pino needs paths, not predicates). Keep in step with
 * SECRET_WORDS: these are the spellings that occur in buildfleet's configs and messages.
 */
export const SECRET_KEY_NAMES = [
  'password',
  'passphrase',
  'secret',
  'secretAccessKey',
  'sessionToken',
  'token',
  'accessToken',
  'apiKey',
  'privateKey',
  'keyMaterial',
  'authorization',
  'Authorization',
  'credentials',
  'cookie',
  'webhookSecret',
] as const;

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  const normalised = key.replace(/[_-]/g, '').toLowerCase();
  return SECRET_WORDS.some((word) => normalised.includes(word));
}

function looksLikePrivateKey(value: unknown): boolean {
  return typeof value === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----/.test(value);
}

/**
 * A copy of a config (or any plain data) that is safe to log or print: values under secret
 * keys and private key blocks become "[redacted]". The input is not changed. The result has
 * the input's type for convenience; use it for display only.
 */
export function redactConfig<T>(config: T): T {
  return redactValue(config, false) as T;
}

function redactValue(value: unknown, secret: boolean): unknown {
  if (value === undefined || value === null) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => redactValue(item, secret));
  if (typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) copy[key] = redactValue(inner, secret || isSecretKey(key));
    return copy;
  }
  return secret || looksLikePrivateKey(value) ? REDACTED : value;
}
