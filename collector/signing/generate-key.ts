import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';

export interface GeneratedSigningKey {
  armoredPrivateKey: string;
  armoredPublicKey: string;
  fingerprint: string;
}

/**
 * Makes an RSA 3072 signing key with gpg in a throw-away GNUPGHOME (a second or two). Used by
 * `buildfleet up` for its local repositories on first start, and by the tests. A real cluster
 * brings its own key (docs/collector.md).
 */
export async function generateSigningKey(options: {
  label: string;
  passphrase?: string;
  signal?: AbortSignal;
}): Promise<GeneratedSigningKey> {
  const { label, passphrase = '' } = options;
  const home = await mkdtemp(path.join(tmpdir(), 'buildfleet-gnupg-'));
  const gpg = async (args: string[]): Promise<string> =>
    (
      await runCommand('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
        env: { GNUPGHOME: home },
        timeoutMs: 120_000,
        ...(options.signal ? { signal: options.signal } : {}),
      })
    ).stdout;
  try {
    const userId = `${label} <${label}@buildfleet.invalid>`;
    await gpg(['--passphrase', passphrase, '--quick-gen-key', userId, 'rsa3072', 'sign', 'never']);
    const listing = await gpg(['--with-colons', '--fingerprint', '--list-secret-keys']);
    const fingerprint = listing
      .split('\n')
      .find((line) => line.startsWith('fpr:'))
      ?.split(':')[9];
    if (fingerprint === undefined) throw new BuildfleetError('signing-failed', `gpg made no key for ${label}`);
    const secretFile = path.join(home, 'secret.asc');
    await gpg(['--passphrase', passphrase, '--armor', '--output', secretFile, '--export-secret-keys', fingerprint]);
    return {
      armoredPrivateKey: await readFile(secretFile, 'utf8'),
      armoredPublicKey: await gpg(['--armor', '--export', fingerprint]),
      fingerprint,
    };
  } finally {
    await runCommand('gpgconf', ['--kill', 'gpg-agent'], { env: { GNUPGHOME: home } }).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}
