import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey } from '../../collector/signing/index.ts';

/**
 * The signing key of the local repositories of `buildfleet up`: taken from the environment
 * when set (BUILDFLEET_SIGNING_KEY), else made once and kept in the data directory (mode 600).
 */
export async function upSigningKey(dataDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env['BUILDFLEET_SIGNING_KEY'];
  if (fromEnv) return fromEnv;
  const file = join(dataDir, 'signing-key.asc');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing) return existing;
  const key = await generateSigningKey({ label: 'buildfleet-up' });
  await writeFile(file, key.armoredPrivateKey, { mode: 0o600 });
  await chmod(file, 0o600);
  return key.armoredPrivateKey;
}
