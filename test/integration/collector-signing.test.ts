import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSigner, loadSigningKey } from '../../collector/signing/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { otherSigningKey, protectedSigningKey, testSigningKey } from '../harness/gpg.ts';

/** Verifies `files` with gpgv against a keyring made from one armored public key; true when valid. */
async function gpgvAccepts(workDir: string, publicKey: string, files: string[]): Promise<boolean> {
  const home = await mkdtemp(path.join(workDir, 'verify-'));
  const keyFile = path.join(home, 'key.asc');
  const keyring = path.join(home, 'keyring.gpg');
  await writeFile(keyFile, publicKey);
  await runCommand('gpg', ['--batch', '--yes', '--output', keyring, '--dearmor', keyFile]);
  const result = await runCommand('gpgv', ['--keyring', keyring, ...files], { okExitCodes: [0, 1, 2] });
  await rm(home, { recursive: true, force: true });
  return result.exitCode === 0;
}

describe('collector signing', () => {
  let workDir: string;
  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'bf-signing-'));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('clearsigns and detach-signs data that gpgv verifies with the published key only', async () => {
    const key = await testSigningKey();
    const signer = await createSigner({ armoredPrivateKey: key.armoredPrivateKey, workDir });
    try {
      assert.equal(signer.fingerprint, key.fingerprint);
      assert.match(signer.publicKeyArmored, /-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      assert.doesNotMatch(signer.publicKeyArmored, /PRIVATE KEY/);
      assert.equal((await stat(signer.gnupgHome)).mode & 0o777, 0o700);

      const data = Buffer.from('Origin: buildfleet\nSuite: bookworm\n');
      const clearsigned = await signer.clearsign(data);
      assert.match(clearsigned.toString(), /^-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: buildfleet\n/);
      const detached = await signer.detachSign(data);
      assert.match(detached.toString(), /^-----BEGIN PGP SIGNATURE-----/);

      const dataFile = path.join(workDir, 'data');
      const sigFile = path.join(workDir, 'data.asc');
      const clearFile = path.join(workDir, 'clear.asc');
      await writeFile(dataFile, data);
      await writeFile(sigFile, detached);
      await writeFile(clearFile, clearsigned);
      assert.equal(await gpgvAccepts(workDir, signer.publicKeyArmored, [clearFile]), true);
      assert.equal(await gpgvAccepts(workDir, signer.publicKeyArmored, [sigFile, dataFile]), true);
      assert.equal(await gpgvAccepts(workDir, (await otherSigningKey()).armoredPublicKey, [clearFile]), false);

      await writeFile(dataFile, Buffer.from('Origin: buildfleeT\nSuite: bookworm\n'));
      assert.equal(await gpgvAccepts(workDir, signer.publicKeyArmored, [sigFile, dataFile]), false);
    } finally {
      await signer.close();
    }
  });

  it('close removes the GNUPGHOME, is idempotent, and a closed signer refuses to sign', async () => {
    const signer = await createSigner({ armoredPrivateKey: (await testSigningKey()).armoredPrivateKey, workDir });
    await signer.close();
    await signer.close();
    await assert.rejects(stat(signer.gnupgHome), { code: 'ENOENT' });
    await assert.rejects(signer.detachSign(Buffer.from('x')), (error) => isBuildfleetError(error, 'signing-failed'));
  });

  it('signs with a passphrase-protected key and fails on a wrong passphrase without naming the key', async () => {
    const key = await protectedSigningKey('correct horse');
    const signer = await createSigner({
      armoredPrivateKey: key.armoredPrivateKey,
      passphrase: 'correct horse',
      workDir,
    });
    try {
      const signature = await signer.detachSign(Buffer.from('hello\n'));
      assert.match(signature.toString(), /BEGIN PGP SIGNATURE/);
    } finally {
      await signer.close();
    }
    await assert.rejects(
      createSigner({ armoredPrivateKey: key.armoredPrivateKey, passphrase: 'wrong', workDir }),
      (error) => {
        assert.ok(isBuildfleetError(error, 'signing-failed'));
        assert.doesNotMatch(JSON.stringify(error.toJSON()) + error.message, /PRIVATE KEY|correct horse/);
        return true;
      },
    );
  });

  it('rejects data that is not a private key, and leaves no GNUPGHOME behind', async () => {
    const dir = await mkdtemp(path.join(workDir, 'bad-'));
    const bogus = '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot a key\n-----END PGP PRIVATE KEY BLOCK-----\n';
    await assert.rejects(createSigner({ armoredPrivateKey: bogus, workDir: dir }), (error) => {
      assert.ok(isBuildfleetError(error, 'signing-failed'));
      assert.doesNotMatch(error.message, /not a key/);
      return true;
    });
    const publicOnly = (await testSigningKey()).armoredPublicKey;
    await assert.rejects(createSigner({ armoredPrivateKey: publicOnly, workDir: dir }), (error) =>
      isBuildfleetError(error, 'signing-failed'),
    );
    assert.deepEqual(await import('node:fs/promises').then((fs) => fs.readdir(dir)), []);
  });

  it('loadSigningKey reads a file or a variable and never puts the key into errors', async () => {
    const key = (await testSigningKey()).armoredPrivateKey;
    const keyFile = path.join(workDir, 'signing.asc');
    await writeFile(keyFile, key, { mode: 0o600 });
    assert.equal(await loadSigningKey({ keyFile, env: {} }), key);
    assert.equal(await loadSigningKey({ keyEnv: 'BF_KEY', env: { BF_KEY: key } }), key);

    const secretLooking = 'secret-value-that-is-not-a-key';
    await assert.rejects(loadSigningKey({ keyEnv: 'BF_KEY', env: { BF_KEY: secretLooking } }), (error) => {
      assert.ok(isBuildfleetError(error, 'signing-failed'));
      assert.match(error.message, /BF_KEY/);
      assert.doesNotMatch(JSON.stringify(error.toJSON()), new RegExp(secretLooking));
      return true;
    });
    await assert.rejects(loadSigningKey({ keyEnv: 'BF_MISSING', env: {} }), /BF_MISSING: not set/);
    await assert.rejects(loadSigningKey({ keyFile: path.join(workDir, 'nope.asc'), env: {} }), /ENOENT/);
    await assert.rejects(loadSigningKey({ env: {} }), (error) => isBuildfleetError(error, 'signing-failed'));
  });
});
