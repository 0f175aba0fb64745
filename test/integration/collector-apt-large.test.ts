/** An apt index larger than 1 MiB is written whole (it was once cut to its last MiB). */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readDebPackage, writeAptRepository } from '../../collector/apt/index.ts';
import { createSigner } from '../../collector/signing/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { testSigningKey } from '../harness/gpg.ts';

describe('apt repository with a large index', { timeout: 120_000 }, () => {
  let work = '';
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes a Packages file of more than 1 MiB completely', async () => {
    work = await mkdtemp(join(tmpdir(), 'buildfleet-apt-large-'));
    const long = Array.from({ length: 4000 }, (_, i) => ` line ${i} of a long description, to make the index big`).join(
      '\n',
    );
    const debs = [];
    for (let i = 0; i < 6; i++) {
      const tree = join(work, `tree-${i}`);
      await mkdir(join(tree, 'DEBIAN'), { recursive: true });
      await writeFile(
        join(tree, 'DEBIAN/control'),
        `Package: big-${i}\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@buildfleet.invalid>\nDescription: big\n${long}\n`,
      );
      const deb = join(work, `big-${i}_1.0_all.deb`);
      await runCommand('dpkg-deb', ['--build', tree, deb]);
      debs.push(await readDebPackage(deb));
    }
    const signer = await createSigner({ armoredPrivateKey: (await testSigningKey()).armoredPrivateKey, workDir: work });
    try {
      const dir = join(work, 'repo');
      await writeAptRepository({ dir, dist: 'bookworm', packages: debs, signer });
      const index = await readFile(join(dir, 'dists/bookworm/main/binary-all/Packages'), 'utf8');
      assert.ok(index.length > 1024 * 1024, `the index is over 1 MiB (${index.length})`);
      assert.ok(index.startsWith('Package: '), 'the index starts with its first paragraph');
      assert.equal([...index.matchAll(/^Package: big-\d$/gm)].length, 6);
    } finally {
      await signer.close();
    }
  });
});
