import { PrivateAptClient } from '../harness/package-clients.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  readDebPackage,
  readSourcePackage,
  writeAptRepository,
  type AptBinaryPackage,
} from '../../collector/apt/index.ts';
import { createSigner, type Signer } from '../../collector/signing/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { otherSigningKey, testSigningKey } from '../harness/gpg.ts';

const HELLO_DEB = path.resolve(import.meta.dirname, '../../examples/sources/projects/demo/hello-deb');

async function serveFile(file: string, headOnly: boolean, response: ServerResponse): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (info?.isFile() !== true) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-length': info.size });
  if (headOnly) response.end();
  else createReadStream(file).pipe(response);
}

/** A static HTTP server on 127.0.0.1 over whichever directory `root` currently names. */
export class StaticRepoServer {
  root = '';
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<StaticRepoServer> {
    // The handler reads `root` through this box, which is filled once the port is known.
    const box: { self?: StaticRepoServer } = {};
    const server = createServer((request, response) => {
      const relative = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      const file = path.join(box.self?.root ?? '/nonexistent', path.normalize(relative));
      void serveFile(file, request.method === 'HEAD', response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    box.self = new StaticRepoServer(server, `http://127.0.0.1:${port}/`);
    return box.self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The same .deb rebuilt with another version in its control file (dpkg-deb -R / -b). */
async function withVersion(deb: string, version: string, workDir: string): Promise<AptBinaryPackage> {
  const tree = await mkdtemp(path.join(workDir, 'repack-'));
  await runCommand('dpkg-deb', ['-R', deb, tree]);
  const control = path.join(tree, 'DEBIAN/control');
  await writeFile(control, (await readFile(control, 'utf8')).replace(/^Version: .*$/m, `Version: ${version}`));
  const out = path.join(workDir, `hello-deb_${version}_amd64.deb`);
  await runCommand('dpkg-deb', ['--root-owner-group', '-b', tree, out]);
  await rm(tree, { recursive: true, force: true });
  return readDebPackage(out);
}

describe('collector apt repository, read by a real apt-get', () => {
  let workDir: string;
  let signer: Signer;
  let server: StaticRepoServer;
  let hello: AptBinaryPackage;
  let dscPath: string;
  let keyFile: string;
  let repoCount = 0;

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'bf-apt-'));
    await cp(HELLO_DEB, path.join(workDir, 'build/hello-deb'), { recursive: true });
    await runCommand('dpkg-buildpackage', ['-us', '-uc'], {
      cwd: path.join(workDir, 'build/hello-deb'),
      timeoutMs: 300_000,
    });
    hello = await readDebPackage(path.join(workDir, 'build/hello-deb_1.0_amd64.deb'));
    dscPath = path.join(workDir, 'build/hello-deb_1.0.dsc');
    signer = await createSigner({ armoredPrivateKey: (await testSigningKey()).armoredPrivateKey, workDir });
    server = await StaticRepoServer.start();
  });
  after(async () => {
    await server.stop();
    await signer.close();
    await rm(workDir, { recursive: true, force: true });
  });

  /** Writes a repository into a new directory and serves it; returns the directory. */
  async function publish(packages: AptBinaryPackage[], keepVersions?: number): Promise<string> {
    const dir = path.join(workDir, `repo-${++repoCount}`);
    const sources = [await readSourcePackage(dscPath)];
    const result = await writeAptRepository({
      dir,
      dist: 'bookworm',
      packages,
      sources,
      signer,
      ...(keepVersions === undefined ? {} : { keepVersions }),
    });
    console.log(`apt repository with ${packages.length} binaries written in ${result.durationMs} ms`);
    server.root = dir;
    keyFile = path.join(dir, 'key.asc');
    return dir;
  }

  async function client(key = keyFile): Promise<PrivateAptClient> {
    const line = `[signed-by=${key}] ${server.url} bookworm main`;
    return PrivateAptClient.create(await mkdtemp(path.join(workDir, 'apt-')), `deb ${line}\ndeb-src ${line}\n`);
  }

  it('apt-get update accepts the signed repository; the package downloads, unpacks and runs', async () => {
    const dir = await publish([hello]);
    assert.equal((await readFile(path.join(dir, 'key.asc'), 'utf8')).includes('BEGIN PGP PUBLIC KEY BLOCK'), true);
    const release = await readFile(path.join(dir, 'dists/bookworm/Release'), 'utf8');
    assert.match(release, /^Suite: bookworm$/m);
    assert.match(release, /^Architectures: amd64$/m);
    assert.match(release, /main\/binary-amd64\/Packages\.gz$/m);

    const apt = await client();
    const update = await apt.aptGet(['update']);
    assert.equal(update.exitCode, 0, update.stdout + update.stderr);
    assert.doesNotMatch(update.stdout + update.stderr, /^(W|E):/m);
    const policy = await apt.aptCache(['policy', 'hello-deb']);
    assert.match(policy.stdout, /Candidate: 1\.0/);

    const download = await apt.aptGet(['download', 'hello-deb']);
    assert.equal(download.exitCode, 0, download.stderr);
    const unpacked = path.join(workDir, 'unpacked');
    await runCommand('dpkg-deb', ['-x', path.join(apt.downloadDir, 'hello-deb_1.0_amd64.deb'), unpacked]);
    const run = await runCommand(path.join(unpacked, 'usr/bin/hello-deb'), []);
    assert.match(run.stdout, /hello/i);

    const source = await apt.aptGet(['source', '--download-only', 'hello-deb']);
    assert.equal(source.exitCode, 0, source.stderr);
    assert.deepEqual((await readdir(apt.downloadDir)).filter((f) => !f.endsWith('.deb')).sort(), [
      'hello-deb_1.0.dsc',
      'hello-deb_1.0.tar.xz',
    ]);
  });

  it('a newer version replaces the older in Packages while the pool keeps the last K', async () => {
    const v11 = await withVersion(hello.path, '1.1', workDir);
    const v12 = await withVersion(hello.path, '1.2~rc1', workDir);
    const v2 = await withVersion(hello.path, '1:0.9', workDir);
    const dir = await publish([v11, hello, v2, v12], 2);
    assert.deepEqual(await readdir(path.join(dir, 'pool/main/h/hello-deb')), [
      'hello-deb_0.9_amd64.deb',
      'hello-deb_1.0.dsc',
      'hello-deb_1.0.tar.xz',
      'hello-deb_1.2~rc1_amd64.deb',
    ]);
    const packages = await readFile(path.join(dir, 'dists/bookworm/main/binary-amd64/Packages'), 'utf8');
    assert.deepEqual(
      [...packages.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]),
      ['1:0.9'],
    );

    const apt = await client();
    assert.equal((await apt.aptGet(['update'])).exitCode, 0);
    assert.match((await apt.aptCache(['policy', 'hello-deb'])).stdout, /Candidate: 1:0\.9/);
    const download = await apt.aptGet(['download', 'hello-deb']);
    assert.equal(download.exitCode, 0, download.stderr);
    assert.deepEqual(await readdir(apt.downloadDir), ['hello-deb_1%3a0.9_amd64.deb']);
  });

  it('apt-get update fails on a Packages file changed after signing', async () => {
    const dir = await publish([hello]);
    const packagesFile = path.join(dir, 'dists/bookworm/main/binary-amd64/Packages');
    const tampered = (await readFile(packagesFile, 'utf8')).replace('Version: 1.0', 'Version: 1.1');
    await writeFile(packagesFile, tampered);
    await writeFile(`${packagesFile}.gz`, gzipSync(tampered));
    const update = await (await client()).aptGet(['update']);
    assert.equal(update.exitCode, 100);
    assert.match(update.stderr, /Hash Sum mismatch|File has unexpected size/);
  });

  it('a client given another key rejects the repository', async () => {
    await publish([hello]);
    const otherKey = path.join(workDir, 'other-key.asc');
    await writeFile(otherKey, (await otherSigningKey()).armoredPublicKey);
    const update = await (await client(otherKey)).aptGet(['update']);
    assert.equal(update.exitCode, 100);
    assert.match(update.stdout + update.stderr, /NO_PUBKEY|is not signed/);
    assert.match(update.stdout + update.stderr, new RegExp(signer.fingerprint.slice(-16)));
  });

  it('refuses a target directory that is not empty', async () => {
    const dir = path.join(workDir, 'not-empty');
    await mkdir(dir);
    await writeFile(path.join(dir, 'old'), 'x');
    await assert.rejects(
      writeAptRepository({ dir, dist: 'bookworm', packages: [hello], signer }),
      (error: unknown) => error instanceof Error && /must be empty/.test(error.message),
    );
    assert.equal((await stat(path.join(dir, 'old'))).isFile(), true);
  });
});
