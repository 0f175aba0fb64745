import { readFile } from 'node:fs/promises';
import { BuildfleetError } from '../../shared/errors/index.ts';

export interface LoadSigningKeyOptions {
  /** Path of a file holding the ASCII-armored private key. */
  keyFile?: string;
  /** Name of an environment variable holding the ASCII-armored private key. */
  keyEnv?: string;
  env: NodeJS.ProcessEnv;
}

const PRIVATE_KEY_HEADER = '-----BEGIN PGP PRIVATE KEY BLOCK-----';

/**
 * The armored private key from a file or an environment variable (the file wins when both are
 * given). Errors: 'signing-failed' naming the file or variable, never the key text.
 */
export async function loadSigningKey(options: LoadSigningKeyOptions): Promise<string> {
  let key: string;
  let source: string;
  if (options.keyFile !== undefined) {
    source = `signing key file ${options.keyFile}`;
    try {
      key = await readFile(options.keyFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new BuildfleetError('signing-failed', `${source}: cannot be read (${code})`, {
        context: { keyFile: options.keyFile },
      });
    }
  } else if (options.keyEnv !== undefined) {
    source = `signing key variable ${options.keyEnv}`;
    const value = options.env[options.keyEnv];
    if (value === undefined || value.trim() === '') {
      throw new BuildfleetError('signing-failed', `${source}: not set or empty`, {
        context: { keyEnv: options.keyEnv },
      });
    }
    key = value;
  } else {
    throw new BuildfleetError('signing-failed', 'signing key: neither a key file nor a key variable is configured');
  }
  if (!key.includes(PRIVATE_KEY_HEADER)) {
    throw new BuildfleetError('signing-failed', `${source}: does not hold an ASCII-armored private key block`);
  }
  return key;
}
