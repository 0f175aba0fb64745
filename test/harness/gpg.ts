import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../../shared/exec/index.ts';

export interface TestSigningKey {
  armoredPrivateKey: string;
  armoredPublicKey: string;
  fingerprint: string;
}

/** Keys generated in this process, by label: RSA 3072 takes a second or two, so each label is made once. */
const generated = new Map<string, Promise<TestSigningKey>>();

/** An unprotected RSA 3072 signing key for tests, generated once per process and label. */
export function testSigningKey(label = 'buildfleet-test'): Promise<TestSigningKey> {
  let key = generated.get(label);
  if (key === undefined) {
    key = generateSigningKey(label);
    generated.set(label, key);
  }
  return key;
}

/** A second key, for "a client trusting another key rejects the repository" tests. */
export function otherSigningKey(): Promise<TestSigningKey> {
  return testSigningKey('buildfleet-other');
}

async function generateSigningKey(label: string, passphrase = ''): Promise<TestSigningKey> {
  const home = await mkdtemp(path.join(tmpdir(), 'bf-test-gnupg-'));
  const gpg = async (args: string[]): Promise<string> =>
    (
      await runCommand('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
        env: { GNUPGHOME: home },
        timeoutMs: 120_000,
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
    if (fingerprint === undefined) throw new Error(`gpg made no key for ${label}`);
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

/** A key protected by a passphrase (not cached: used once, by the passphrase tests). */
export function protectedSigningKey(passphrase: string): Promise<TestSigningKey> {
  return generateSigningKey('buildfleet-protected', passphrase);
}
