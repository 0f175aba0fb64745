/**
 * `buildfleet tokens create|list|revoke`: the bearer tokens of the HTTP API, in the tokens file
 * the info service reads (`info.auth.tokensFile`; `buildfleet up` uses `<data>/tokens.json`).
 * The file holds SHA-256 hashes only; `create` prints the token once. The info service notices
 * a change on its next request that carries a token (docs/security.md).
 */
import type { Command } from 'commander';
import { BuildfleetError } from '../../shared/errors/index.ts';
import {
  addToken,
  HttpRoles,
  parseTokenLifetime,
  readTokensFile,
  revokeToken,
  tokenExpired,
  updateTokensFile,
  type HttpRole,
} from '../../shared/http/index.ts';
import { printJson } from './client-options.ts';

/** `buildfleet up`'s tokens file under its default `--data var/up`. */
export const DEFAULT_TOKENS_FILE = 'var/up/tokens.json';

interface FileOption {
  file: string;
}

interface CreateOptions extends FileOption {
  name: string;
  role: string;
  projectPrefix: string[];
  expiresIn?: string;
  json?: boolean;
}

function isRole(value: string): value is HttpRole {
  return (HttpRoles as readonly string[]).includes(value);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerTokens(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('bearer tokens of the HTTP API: create (shown once), list (never the secrets), revoke');
  const fileOption = ['--file <path>', 'the tokens file (info.auth.tokensFile)', DEFAULT_TOKENS_FILE] as const;

  tokens
    .command('create')
    .description('make a token and print it once; the file keeps only its SHA-256')
    .requiredOption('--name <name>', 'who or what uses it (letters, digits, . _ @ -)')
    .requiredOption('--role <role>', `${HttpRoles.join(' | ')} (each includes the ones before)`)
    .option(
      '--project-prefix <path>',
      'submit role: a project path it may submit and cancel (repeatable; default every project)',
      collect,
      [],
    )
    .option('--expires-in <duration>', 'refused (401) after this long: 90m, 12h, 30d (default: never)')
    .option('--json', 'print { name, role, projectPrefixes, expires, token }')
    .option(...fileOption)
    .action(async (options: CreateOptions) => {
      if (!isRole(options.role)) {
        throw new BuildfleetError('usage', `--role must be one of ${HttpRoles.join(', ')} (got ${options.role})`);
      }
      const role = options.role;
      const now = new Date();
      const expires =
        options.expiresIn === undefined ? undefined : new Date(now.getTime() + parseTokenLifetime(options.expiresIn));
      let secret = '';
      await updateTokensFile(options.file, (current) => {
        const made = addToken(
          current,
          { name: options.name, role, projectPrefixes: options.projectPrefix, expires },
          now,
        );
        secret = made.secret;
        return made.file;
      });
      if (options.json) {
        printJson({
          name: options.name,
          role: options.role,
          projectPrefixes: options.projectPrefix,
          ...(expires === undefined ? {} : { expires: expires.toISOString() }),
          token: secret,
        });
        return;
      }
      process.stdout.write(`${secret}\n`);
      process.stderr.write(
        `token "${options.name}" (${options.role}) added to ${options.file}; it is shown only now: ` +
          'give it to its user as BUILDFLEET_TOKEN\n',
      );
    });

  tokens
    .command('list')
    .description(
      'the tokens of the file: name, role, projects, created, state (active, until, expired, revoked; never the secrets)',
    )
    .option('--json', 'print them as JSON (without the hashes)')
    .option(...fileOption)
    .action(async (options: FileOption & { json?: boolean }) => {
      const { tokens: list } = await readTokensFile(options.file, { missingIsEmpty: true });
      const shown = list.map(({ sha256: _hash, ...rest }) => rest);
      if (options.json) {
        printJson(shown);
        return;
      }
      for (const token of shown) {
        const projects = token.projectPrefixes?.join(',') ?? (token.role === 'read' ? '-' : '*');
        const state =
          token.revoked !== undefined
            ? `revoked ${token.revoked}`
            : tokenExpired(token, new Date())
              ? `expired ${token.expires ?? ''}`
              : token.expires === undefined
                ? 'active'
                : `active until ${token.expires}`;
        process.stdout.write(`${token.name}\t${token.role}\t${projects}\t${token.created ?? '-'}\t${state}\n`);
      }
    });

  tokens
    .command('revoke <name>')
    .description('revoke a token: refused (401) from the next request on, no restart needed')
    .option(...fileOption)
    .action(async (name: string, options: FileOption) => {
      await readTokensFile(options.file); // a missing file is an error here, not an empty one
      await updateTokensFile(options.file, (current) => revokeToken(current, name, new Date()));
      process.stdout.write(`token "${name}" revoked\n`);
    });
}
