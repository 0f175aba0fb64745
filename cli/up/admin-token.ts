/**
 * The admin token of `buildfleet up`: the local user's token, made on the first start, kept hashed
 * in `<data>/tokens.json` (the all-in-one's `info.auth.tokensFile`) and saved in the client's
 * credentials file under the API's URL, where the CLI finds it. A later start reuses the saved
 * token while the tokens file still knows it, and makes a new one otherwise.
 */
import { savedToken, saveToken } from '../client/credentials.ts';
import { addToken, findToken, readTokensFile, updateTokensFile } from '../../shared/http/index.ts';

/** The name of up's admin token in its tokens file. */
export const LOCAL_ADMIN = 'local-admin';

export interface AdminTokenOptions {
  tokensFile: string;
  /** The API's URL, the key in the credentials file. */
  url: string;
  /** Where the CLI finds the token; absent: not saved (a test takes it from the result). */
  credentialsFile?: string | undefined;
}

/** The admin token's secret, and whether it was made now. */
export async function ensureAdminToken(options: AdminTokenOptions): Promise<{ token: string; created: boolean }> {
  const file = await readTokensFile(options.tokensFile, { missingIsEmpty: true });
  if (options.credentialsFile !== undefined) {
    const saved = await savedToken(options.credentialsFile, options.url);
    const known = saved === undefined ? undefined : findToken(file.tokens, saved);
    if (saved !== undefined && known !== undefined && known.revoked === undefined && known.role === 'admin') {
      return { token: saved, created: false };
    }
  }
  // The old local admin's secret is lost (or was revoked): it is replaced.
  let secret = '';
  await updateTokensFile(options.tokensFile, (current) => {
    const others = { tokens: current.tokens.filter((token) => token.name !== LOCAL_ADMIN) };
    const made = addToken(others, { name: LOCAL_ADMIN, role: 'admin' }, new Date());
    secret = made.secret;
    return made.file;
  });
  if (options.credentialsFile !== undefined) await saveToken(options.credentialsFile, options.url, secret);
  return { token: secret, created: true };
}
