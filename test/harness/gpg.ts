import { generateSigningKey as generateProductKey } from '../../collector/signing/generate-key.ts';

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

function generateSigningKey(label: string, passphrase = ''): Promise<TestSigningKey> {
  return generateProductKey({ label, passphrase });
}

/** A key protected by a passphrase (not cached: used once, by the passphrase tests). */
export function protectedSigningKey(passphrase: string): Promise<TestSigningKey> {
  return generateSigningKey('buildfleet-protected', passphrase);
}
