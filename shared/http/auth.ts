/**
 * Who makes an HTTP request and what it may do (docs/security.md, "HTTP identities"): the
 * principal of a request (its bearer token, or anonymous), the access a route declares, and the
 * refusals: 401 (`auth-required`, with `WWW-Authenticate: Bearer`) when a token is missing,
 * unknown or revoked, 403 (`forbidden`) when the principal's role or projects do not cover it.
 */
import type { IncomingMessage } from 'node:http';
import { stat } from 'node:fs/promises';
import type { Logger } from '../log/index.ts';
import type { BuildfleetError } from '../errors/index.ts';
import { HttpError } from './respond.ts';
import {
  findToken,
  HttpRoles,
  looksLikeToken,
  projectCovered,
  readTokensFile,
  tokenExpired,
  type HashedToken,
  type HttpRole,
} from './tokens.ts';

/** What a route needs: `public` (anyone, no token looked at) or at least a role. */
export type RouteAccess = 'public' | HttpRole;

/** Who asked: a token's name and grants, or `anonymous` with what anonymous requests may do. */
export interface Principal {
  kind: 'token' | 'anonymous';
  /** The token's name; `anonymous` for a request without one. */
  name: string;
  /** Undefined: nothing but public routes. */
  role: HttpRole | undefined;
  /** For `submit`: the projects covered; undefined covers every project. */
  projectPrefixes?: readonly string[] | undefined;
}

/** What anonymous requests may do: nothing, read, or (only `buildfleet up --insecure-local`) submit. */
export type AnonymousAccess = 'none' | 'read' | 'submit';

export const ANONYMOUS_NONE: Principal = { kind: 'anonymous', name: 'anonymous', role: undefined };

/** The current tokens, re-read when their file changed. */
export interface TokenSource {
  tokens(): Promise<readonly HashedToken[]>;
}

export interface TokenSourceOptions {
  /** The tokens file (`buildfleet tokens`), re-read when its mtime, size or inode changes. */
  file?: string | undefined;
  /** Tokens of the config file itself. */
  inline?: readonly HashedToken[] | undefined;
  logger?: Logger | undefined;
}

/**
 * The tokens of the file and the config. The file is stat'ed on each lookup (microseconds; only
 * requests carrying a token look up), so a revoke takes effect on the next request, without a
 * restart. A file that vanishes or stops parsing counts as no tokens (fail closed) and is logged.
 */
export function createTokenSource(options: TokenSourceOptions): TokenSource {
  const inline = options.inline ?? [];
  const file = options.file;
  let seen = '';
  let fromFile: readonly HashedToken[] = [];
  let loading: Promise<readonly HashedToken[]> | undefined;

  const load = async (): Promise<readonly HashedToken[]> => {
    if (file === undefined) return inline;
    let version: string;
    try {
      const info = await stat(file);
      version = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      if (seen !== 'missing')
        options.logger?.warn({ err: error, file }, 'http auth: the tokens file is gone: no tokens');
      seen = 'missing';
      fromFile = [];
      return inline;
    }
    if (version !== seen) {
      try {
        fromFile = (await readTokensFile(file)).tokens;
        options.logger?.info({ file, tokens: fromFile.length }, 'http auth: tokens file read');
      } catch (error) {
        options.logger?.error({ err: error, file }, 'http auth: the tokens file does not parse: no tokens');
        fromFile = [];
      }
      seen = version;
    }
    return [...inline, ...fromFile];
  };
  return {
    tokens: () => {
      // concurrent requests share one stat (and read)
      loading ??= load().finally(() => {
        loading = undefined;
      });
      return loading;
    },
  };
}

export interface HttpAuthOptions {
  tokens: TokenSource;
  anonymous: AnonymousAccess;
}

/** Finds the principal of a request; throws 401 for a token that is malformed, unknown, revoked or expired. */
export interface HttpAuth {
  authenticate(request: IncomingMessage): Promise<Principal>;
}

function unauthorized(message: string, invalidToken: boolean): HttpError {
  return new HttpError(401, 'auth-required', message, {
    context: { bearerError: invalidToken ? 'invalid_token' : '' },
  });
}

export function createHttpAuth(options: HttpAuthOptions): HttpAuth {
  const anonymous: Principal =
    options.anonymous === 'none' ? ANONYMOUS_NONE : { kind: 'anonymous', name: 'anonymous', role: options.anonymous };
  return {
    async authenticate(request) {
      const header = request.headers.authorization;
      if (header === undefined) return anonymous;
      const match = /^Bearer +(\S+) *$/i.exec(header);
      if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"', true);
      const secret = match[1] ?? '';
      const token = looksLikeToken(secret) ? findToken(await options.tokens.tokens(), secret) : undefined;
      if (token === undefined) throw unauthorized('the bearer token is not known', true);
      if (token.revoked !== undefined) throw unauthorized(`the token "${token.name}" was revoked`, true);
      if (tokenExpired(token, new Date())) {
        throw unauthorized(`the token "${token.name}" expired at ${token.expires ?? ''}`, true);
      }
      return {
        kind: 'token',
        name: token.name,
        role: token.role,
        ...(token.projectPrefixes ? { projectPrefixes: token.projectPrefixes } : {}),
      };
    },
  };
}

function rank(role: HttpRole | undefined): number {
  return role === undefined ? -1 : HttpRoles.indexOf(role);
}

/** Throws unless the principal may use a route of this access: 401 without a token, 403 with one too weak. */
export function authorize(principal: Principal, access: RouteAccess): void {
  if (access === 'public' || rank(principal.role) >= rank(access)) return;
  if (principal.kind === 'anonymous') {
    throw unauthorized(`this needs a bearer token with the ${access} role (Authorization: Bearer <token>)`, false);
  }
  throw new HttpError(
    403,
    'forbidden',
    `token "${principal.name}" has the ${principal.role ?? 'no'} role; this needs ${access}`,
    {
      context: { principal: principal.name, needs: access },
    },
  );
}

/**
 * Throws unless the principal may submit or cancel builds of `project`: `admin`, or `submit`
 * with a project prefix covering it (403 naming the project).
 */
export function authorizeProject(principal: Principal, project: string): void {
  authorize(principal, 'submit');
  if (principal.role === 'admin' || projectCovered(principal.projectPrefixes, project)) return;
  throw new HttpError(
    403,
    'forbidden',
    `token "${principal.name}" may not submit or cancel builds of project ${project} ` +
      `(its projects: ${(principal.projectPrefixes ?? []).join(', ')})`,
    { context: { principal: principal.name, project } },
  );
}

/** The `WWW-Authenticate` value of a 401 answer (RFC 6750). */
export function bearerChallenge(error: BuildfleetError): string {
  return error.context.bearerError === 'invalid_token'
    ? 'Bearer realm="buildfleet", error="invalid_token"'
    : 'Bearer realm="buildfleet"';
}
