/**
 * Bearer tokens of the HTTP API (docs/security.md, "HTTP identities"): what a token is, how it is
 * kept at rest (SHA-256 of the secret, never the secret) and the tokens file that
 * `buildfleet tokens` writes and the info service reads.
 *
 * A token is `bft_` + 32 random bytes (base64url). Such a secret cannot be guessed or
 * brute-forced from its hash, so a fast hash is enough: a slow password hash protects
 * low-entropy secrets, and would cost every request milliseconds for nothing here.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { BuildfleetError } from '../errors/index.ts';
import { compiledSchema } from '../schema/index.ts';

/** `read` < `submit` < `admin`: each role may do what the ones before it may. */
export const HttpRoles = ['read', 'submit', 'admin'] as const;
export type HttpRole = (typeof HttpRoles)[number];

export const TOKEN_PREFIX = 'bft_';
const TOKEN_PATTERN = /^bft_[A-Za-z0-9_-]{43}$/;

/** A token as configured or stored: its name, role, projects and the SHA-256 (hex) of its secret. */
export const HashedToken = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' }),
    role: Type.Union(HttpRoles.map((role) => Type.Literal(role))),
    /** For `submit`: the project paths (prefixes) it may submit and cancel. Absent: every project. */
    projectPrefixes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    created: Type.Optional(Type.String()),
    /** When it was revoked; a revoked token is refused with 401. */
    revoked: Type.Optional(Type.String()),
    /** When it stops working (ISO 8601); an expired token is refused with 401. Absent: never. */
    expires: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type HashedToken = Static<typeof HashedToken>;

export const TokensFile = Type.Object({ tokens: Type.Array(HashedToken) }, { additionalProperties: false });
export type TokensFile = Static<typeof TokensFile>;

/** A new random token secret. */
export function newTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Whether a string has the shape of a token (a cheap refusal before any lookup). */
export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The token among `tokens` whose hash is the secret's; compared in constant time. */
export function findToken(tokens: readonly HashedToken[], secret: string): HashedToken | undefined {
  const hash = Buffer.from(hashTokenSecret(secret), 'hex');
  let found: HashedToken | undefined;
  for (const token of tokens) {
    // every entry is compared, so the time does not tell which one matched
    if (timingSafeEqual(hash, Buffer.from(token.sha256, 'hex')) && found === undefined) found = token;
  }
  return found;
}

/** Reads and checks a tokens file; a missing file is `{ tokens: [] }` when `missingIsEmpty`. */
export async function readTokensFile(path: string, options: { missingIsEmpty?: boolean } = {}): Promise<TokensFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (options.missingIsEmpty && (error as NodeJS.ErrnoException).code === 'ENOENT') return { tokens: [] };
    throw new BuildfleetError('config-invalid', `cannot read the tokens file ${path}: ${(error as Error).message}`, {
      cause: error,
      context: { path },
    });
  }
  return parseTokensFile(text, path);
}

/** The tokens file's JSON, checked: config-invalid naming the file and the first bad field. */
export function parseTokensFile(text: string, path: string): TokensFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BuildfleetError('config-invalid', `the tokens file ${path} is not JSON: ${(error as Error).message}`, {
      cause: error,
      context: { path },
    });
  }
  const check = compiledSchema(TokensFile);
  const problem = check.Errors(value).First();
  if (problem !== undefined) {
    throw new BuildfleetError(
      'config-invalid',
      `the tokens file ${path}: ${problem.path || '(top)'} ${problem.message}`,
      { context: { path, field: problem.path } },
    );
  }
  const tokens = (value as TokensFile).tokens;
  const names = new Set<string>();
  for (const token of tokens) {
    if (names.has(token.name)) {
      throw new BuildfleetError('config-invalid', `the tokens file ${path} names token "${token.name}" twice`, {
        context: { path, name: token.name },
      });
    }
    names.add(token.name);
  }
  return value as TokensFile;
}

/** Writes the tokens file atomically (a temporary file renamed over it), mode 0600. */
export function writeTokensFile(path: string, file: TokensFile): Promise<void> {
  return writePrivateFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** How long `updateTokensFile` waits for another writer's lock. */
const LOCK_WAIT_MS = 30_000;

/**
 * Reads, changes and writes the tokens file under a lock (`<file>.lock`, made exclusively), so
 * two `buildfleet tokens` at once do not lose one's change. A missing file is empty.
 */
export async function updateTokensFile(path: string, change: (file: TokensFile) => TokensFile): Promise<TokensFile> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) {
        throw new BuildfleetError(
          'config-invalid',
          `the tokens file ${path} is locked by ${lock}; remove it if no buildfleet tokens command is running`,
          { context: { path: lock } },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    const changed = change(await readTokensFile(path, { missingIsEmpty: true }));
    await writeTokensFile(path, changed);
    return changed;
  } finally {
    await rm(lock, { force: true });
  }
}

/** Writes a file only its owner can read, atomically: a temporary file (0600) renamed over it. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Whether `project` lies under one of the prefixes, by whole path segments (`a/b` covers `a/b/c`, not `a/bc`). */
export function projectCovered(prefixes: readonly string[] | undefined, project: string): boolean {
  if (prefixes === undefined) return true;
  return prefixes.some((prefix) => {
    const bare = prefix.replace(/\/+$/, '');
    return project === bare || project.startsWith(`${bare}/`);
  });
}

export interface NewToken {
  name: string;
  role: HttpRole;
  /** Only for `submit`. */
  projectPrefixes?: readonly string[] | undefined;
  /** When it stops working; absent: never. */
  expires?: Date | undefined;
}

/** The file with a new token, and the token's secret (shown once, never stored). Usage error for a name taken or a bad grant. */
export function addToken(file: TokensFile, wanted: NewToken, now: Date): { file: TokensFile; secret: string } {
  const prefixes = wanted.projectPrefixes ?? [];
  if (prefixes.length > 0 && wanted.role !== 'submit') {
    throw new BuildfleetError('usage', `project prefixes are for the submit role (read reads all, admin does all)`, {
      context: { field: 'projectPrefixes' },
    });
  }
  if (file.tokens.some((token) => token.name === wanted.name)) {
    throw new BuildfleetError(
      'usage',
      `a token named "${wanted.name}" exists (revoked ones stay listed): pick another name`,
      {
        context: { field: 'name' },
      },
    );
  }
  const secret = newTokenSecret();
  const token: HashedToken = {
    name: wanted.name,
    role: wanted.role,
    ...(prefixes.length > 0 ? { projectPrefixes: [...prefixes] } : {}),
    sha256: hashTokenSecret(secret),
    created: now.toISOString(),
    ...(wanted.expires === undefined ? {} : { expires: wanted.expires.toISOString() }),
  };
  if (wanted.expires !== undefined && wanted.expires.getTime() <= now.getTime()) {
    throw new BuildfleetError('usage', 'a token must expire in the future', { context: { field: 'expires' } });
  }
  const problem = compiledSchema(HashedToken).Errors(token).First();
  if (problem !== undefined) {
    throw new BuildfleetError('usage', `token ${problem.path.slice(1)}: ${problem.message}`, {
      context: { field: problem.path.slice(1) },
    });
  }
  return { file: { tokens: [...file.tokens, token] }, secret };
}

/** The file with the named token revoked (kept, with the time); not-found when there is none. */
export function revokeToken(file: TokensFile, name: string, now: Date): TokensFile {
  if (!file.tokens.some((token) => token.name === name)) {
    throw new BuildfleetError('not-found', `no token named "${name}"`, { context: { name } });
  }
  return {
    tokens: file.tokens.map((token) =>
      token.name === name && token.revoked === undefined ? { ...token, revoked: now.toISOString() } : token,
    ),
  };
}

/** Whether the token has expired at `now`; an `expires` that is no time counts as expired (fail closed). */
export function tokenExpired(token: Pick<HashedToken, 'expires'>, now: Date): boolean {
  if (token.expires === undefined) return false;
  const at = Date.parse(token.expires);
  return Number.isNaN(at) || at <= now.getTime();
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `12h`, `30d` -> milliseconds; a usage error naming `option` for anything else. */
export function parseTokenLifetime(value: string, option = '--expires-in'): number {
  const match = /^([1-9][0-9]{0,5})([mhd])$/.exec(value.trim());
  const unit = match ? DURATION_UNITS_MS[match[2] ?? ''] : undefined;
  if (!match || unit === undefined) {
    throw new BuildfleetError(
      'usage',
      `${option} must be a whole number of minutes, hours or days: 90m, 12h, 30d (got "${value}")`,
      {
        context: { field: option },
      },
    );
  }
  return Number(match[1]) * unit;
}
