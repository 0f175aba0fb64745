import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BuildfleetError, throwIfAborted } from '../../shared/errors/index.ts';
import { GpgHome } from './gpg-home.ts';

/** Signs repository metadata with one private key held in a private GNUPGHOME. */
export interface Signer {
  /** Full fingerprint of the signing key (40 hex characters, upper case). */
  readonly fingerprint: string;
  /** ASCII-armored public key, published as /key.asc. */
  readonly publicKeyArmored: string;
  /** A private GNUPGHOME holding the key, for tools such as rpmsign. */
  readonly gnupgHome: string;
  /** gpg --clearsign (InRelease). */
  clearsign(data: Buffer, signal?: AbortSignal): Promise<Buffer>;
  /** Armored detached signature (Release.gpg, repomd.xml.asc). */
  detachSign(data: Buffer, signal?: AbortSignal): Promise<Buffer>;
  /** Removes the GNUPGHOME; idempotent. */
  close(): Promise<void>;
}

export interface CreateSignerOptions {
  armoredPrivateKey: string;
  passphrase?: string;
  /** The private GNUPGHOME is created under this directory. */
  workDir: string;
  signal?: AbortSignal;
}

/**
 * Imports the key into a new private GNUPGHOME and checks it can sign. Errors:
 * BuildfleetError('signing-failed') naming the failed step (never the key text).
 */
export async function createSigner(options: CreateSignerOptions): Promise<Signer> {
  throwIfAborted(options.signal);
  if (!options.armoredPrivateKey.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')) {
    throw new BuildfleetError('signing-failed', 'signing key: not an ASCII-armored private key block');
  }
  const home = await GpgHome.create(options.workDir);
  try {
    await home.gpg('importing the signing key', ['--import'], options.armoredPrivateKey, options.signal);
    const fingerprint = await secretKeyFingerprint(home, options.signal);
    const publicKeyArmored = await home.gpg(
      'exporting the public key',
      ['--armor', '--export', fingerprint],
      '',
      options.signal,
    );
    const passphraseFile = await home.writePrivateFile('passphrase', options.passphrase);
    const signer = new GpgSigner(home, fingerprint, publicKeyArmored, passphraseFile);
    // Fails now (wrong passphrase, key without signing capability) rather than at the first publish.
    await signer.detachSign(Buffer.from('buildfleet signing check\n'), options.signal);
    return signer;
  } catch (error) {
    await home.remove();
    throw error;
  }
}

async function secretKeyFingerprint(home: GpgHome, signal: AbortSignal | undefined): Promise<string> {
  const listing = await home.gpg(
    'listing the imported key',
    ['--with-colons', '--fingerprint', '--list-secret-keys'],
    '',
    signal,
  );
  // The first fpr record after the first sec record is the primary key's fingerprint.
  const lines = listing.split('\n');
  const secIndex = lines.findIndex((line) => line.startsWith('sec:'));
  const fpr = lines.slice(secIndex + 1).find((line) => line.startsWith('fpr:'));
  const fingerprint = fpr?.split(':')[9];
  if (secIndex < 0 || fingerprint === undefined || !/^[0-9A-F]{40,64}$/.test(fingerprint)) {
    throw new BuildfleetError('signing-failed', 'signing key: the imported data holds no secret key');
  }
  if (lines.filter((line) => line.startsWith('sec:')).length > 1) {
    throw new BuildfleetError('signing-failed', 'signing key: the data holds more than one secret key');
  }
  return fingerprint;
}

class GpgSigner implements Signer {
  private closed = false;

  constructor(
    private readonly home: GpgHome,
    readonly fingerprint: string,
    readonly publicKeyArmored: string,
    /** Inside the private GNUPGHOME (mode 600), so it goes when the home goes. */
    private readonly passphraseFile: string | undefined,
  ) {}

  get gnupgHome(): string {
    return this.home.dir;
  }

  async clearsign(data: Buffer, signal?: AbortSignal): Promise<Buffer> {
    return this.sign('clearsigning', ['--clearsign'], data, signal);
  }

  async detachSign(data: Buffer, signal?: AbortSignal): Promise<Buffer> {
    return this.sign('detached signing', ['--armor', '--detach-sign'], data, signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.home.remove();
  }

  private async sign(what: string, mode: readonly string[], data: Buffer, signal?: AbortSignal): Promise<Buffer> {
    if (this.closed) throw new BuildfleetError('signing-failed', `${what}: the signer is closed`);
    // Output goes to a file so the bytes come back exactly as gpg wrote them (no text decoding).
    const output = path.join(this.home.dir, `out-${randomBytes(6).toString('hex')}`);
    try {
      await this.home.gpg(
        what,
        [
          ...this.passphraseArgs(),
          '--local-user',
          this.fingerprint,
          '--digest-algo',
          'SHA512',
          ...mode,
          '--output',
          output,
        ],
        data,
        signal,
      );
      return await readFile(output);
    } finally {
      await rm(output, { force: true });
    }
  }

  private passphraseArgs(): string[] {
    return this.passphraseFile === undefined ? [] : ['--passphrase-file', this.passphraseFile];
  }
}
