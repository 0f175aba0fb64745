/**
 * The client's credentials file: the bearer token to send to each API, by its URL. `buildfleet up`
 * saves the admin token it makes there, so the CLI on the same machine submits with no extra step;
 * BUILDFLEET_TOKEN wins over it. JSON `{ "apis": { "<api url>": { "token": "bft_..." } } }`,
 * mode 0600, at BUILDFLEET_CREDENTIALS_FILE, else `$XDG_CONFIG_HOME/buildfleet/credentials.json`
 * (`~/.config/...`).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { writePrivateFile } from '../../shared/http/index.ts';
import { compiledSchema } from '../../shared/schema/index.ts';

const Credentials = Type.Object({
  apis: Type.Record(Type.String(), Type.Object({ token: Type.String({ minLength: 1 }) })),
});
type Credentials = Static<typeof Credentials>;

/** Where the credentials file is when BUILDFLEET_CREDENTIALS_FILE does not say. */
export function defaultCredentialsFile(xdgConfigHome: string | undefined = process.env.XDG_CONFIG_HOME): string {
  return join(
    xdgConfigHome !== undefined && xdgConfigHome !== '' ? xdgConfigHome : join(homedir(), '.config'),
    'buildfleet',
    'credentials.json',
  );
}

/** `http://127.0.0.1:8080/` and `http://127.0.0.1:8080` are one API. */
function keyOf(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '');
}

async function readCredentials(path: string): Promise<Credentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { apis: {} };
    throw new BuildfleetError(
      'config-invalid',
      `cannot read the credentials file ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!compiledSchema(Credentials).Check(value)) {
    throw new BuildfleetError(
      'config-invalid',
      `the credentials file ${path} is not { "apis": { "<url>": { "token": "..." } } }`,
      { context: { path } },
    );
  }
  return value;
}

/** The token saved for the API, if any. */
export async function savedToken(path: string, apiUrl: string): Promise<string | undefined> {
  return (await readCredentials(path)).apis[keyOf(apiUrl)]?.token;
}

/** Saves the token for the API (atomically, mode 0600, the directory made 0700 when new). */
export async function saveToken(path: string, apiUrl: string, token: string): Promise<void> {
  const credentials = await readCredentials(path);
  credentials.apis[keyOf(apiUrl)] = { token };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writePrivateFile(path, `${JSON.stringify(credentials, null, 2)}\n`);
}

/** The token to send to the API: BUILDFLEET_TOKEN, else the one saved for it in the credentials file. */
export async function tokenFor(
  env: { token?: string | undefined; credentialsFile?: string | undefined },
  apiUrl: string,
): Promise<string | undefined> {
  return env.token ?? (await savedToken(env.credentialsFile ?? defaultCredentialsFile(), apiUrl));
}
