import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey } from '../../collector/signing/index.ts';

/**
 * The signing key file of the local repositories of `buildfleet up`: none when the environment
 * holds the key (BUILDFLEET_SIGNING_KEY, the collector's default `signing.keyEnv`), else a key made
 * once and kept in the data directory (mode 600).
 */
export async function upSigningKeyFile(dataDir: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env['BUILDFLEET_SIGNING_KEY']) return undefined;
  const file = join(dataDir, 'signing-key.asc');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing) return file;
  const key = await generateSigningKey({ label: 'buildfleet-up' });
  await writeFile(file, key.armoredPrivateKey, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
