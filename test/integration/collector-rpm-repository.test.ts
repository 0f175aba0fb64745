/**
 * writeRpmRepository against the real tools: rpmbuild makes self-contained noarch rpms (no
 * requires, so an empty installroot can take them), rpmsign and createrepo_c write the
 * repository, a node:http server serves it on 127.0.0.1 and real dnf installs from it with
 * gpgcheck=1 and repo_gpgcheck=1.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSigner, type Signer } from '../../collector/signing/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { readRpmHeader, readRpmSigningKeyId, writeRpmRepository, type RpmPackage } from '../../collector/rpm/index.ts';
import { otherSigningKey, testSigningKey } from '../harness/gpg.ts';

const PACKAGE = 'bf-rpmtest';
const CONTENT_FILE = `usr/share/${PACKAGE}/version.txt`;

let root: string;
/** The only directory the HTTP server serves (the signer's GNUPGHOME stays outside it). */
let www: string;
let signer: Signer;
let server: Server;
/** What before() has made so far, so a failed before() still cleans up. */
const made: { root?: string; signer?: Signer; server?: Server } = {};
let baseUrl: string;
const built = new Map<string, RpmPackage>();

/** Builds a noarch rpm whose one file holds its version; returns its header. */
async function buildRpm(version: string, release: string): Promise<RpmPackage> {
  const top = join(root, `build-${version}-${release}`);
  await mkdir(top, { recursive: true });
  const spec = join(top, `${PACKAGE}.spec`);
  await writeFile(
    spec,
    [
      `Name: ${PACKAGE}`,
      `Version: ${version}`,
      `Release: ${release}`,
      'Summary: buildfleet rpm repository test package',
      'License: MIT',
      'BuildArch: noarch',
      // No automatic requires: an empty installroot has no libc or /bin/sh to offer.
      'AutoReqProv: no',
      '%description',
      'Test package for the rpm-md repository writer.',
      '%install',
      `mkdir -p %{buildroot}/usr/share/${PACKAGE}`,
      `echo ${version}-${release} > %{buildroot}/${CONTENT_FILE}`,
      '%files',
      `/${CONTENT_FILE}`,
      '',
    ].join('\n'),
  );
  await runCommand('rpmbuild', ['-bb', '--nodeps', '--define', `_topdir ${top}`, spec], { timeoutMs: 120_000 });
  return readRpmHeader(join(top, 'RPMS', 'noarch', `${PACKAGE}-${version}-${release}.noarch.rpm`));
}

async function buildSourceRpm(): Promise<RpmPackage> {
  const top = join(root, 'build-1.0-1');
  await runCommand('rpmbuild', ['-bs', '--nodeps', '--define', `_topdir ${top}`, join(top, `${PACKAGE}.spec`)], {
    timeoutMs: 120_000,
  });
  return readRpmHeader(join(top, 'SRPMS', `${PACKAGE}-1.0-1.src.rpm`));
}

/** Serves `dir` read-only; `/<name>/...` is the repository version written to `<dir>/<name>`. */
async function startStaticServer(dir: string): Promise<Server> {
  const httpServer = createServer((request, response) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(dir + sep)) {
      response.writeHead(403).end();
      return;
    }
    readFile(path).then(
      (body) => response.writeHead(200, { 'content-length': body.length }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return httpServer;
}

interface DnfOutcome {
  exitCode: number;
  output: string;
  /** The installed test file's content, or undefined when it is not in the installroot. */
  installed: string | undefined;
}

/** Runs real dnf with a fresh installroot and cache, configured only by the arguments here. */
async function dnfInstall(repoPath: string, options: { keyUrl: string; repoGpgcheck?: boolean }): Promise<DnfOutcome> {
  const run = await mkdtemp(join(root, 'dnf-'));
  const installroot = join(run, 'root');
  const reposdir = join(run, 'repos.d');
  await mkdir(reposdir);
  await writeFile(join(run, 'dnf.conf'), '[main]\n');
  const result = await runCommand(
    'dnf',
    [
      `--config=${join(run, 'dnf.conf')}`,
      `--installroot=${installroot}`,
      '--releasever=12',
      `--setopt=reposdir=${reposdir}`,
      `--setopt=cachedir=${join(run, 'cache')}`,
      '--setopt=install_weak_deps=False',
      `--repofrompath=bf,${baseUrl}/${repoPath}/`,
      '--setopt=bf.gpgcheck=1',
      `--setopt=bf.repo_gpgcheck=${options.repoGpgcheck === false ? 0 : 1}`,
      `--setopt=bf.gpgkey=${options.keyUrl}`,
      '-y',
      'install',
      PACKAGE,
    ],
    { timeoutMs: 120_000, okExitCodes: [0, 1] },
  );
  const installed = await readFile(join(installroot, CONTENT_FILE), 'utf8').catch(() => undefined);
  return { exitCode: result.exitCode, output: result.stdout + result.stderr, installed: installed?.trim() };
}

describe('writeRpmRepository with real rpmsign, createrepo_c and dnf', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bf-collector-rpm-'));
    made.root = root;
    const key = await testSigningKey();
    www = join(root, 'www');
    await mkdir(www);
    signer = await createSigner({ armoredPrivateKey: key.armoredPrivateKey, workDir: root });
    made.signer = signer;
    for (const [version, release] of [
      ['1.0', '1'],
      ['1.1', '1'],
      ['1.2', '1'],
    ] as const) {
      built.set(version, await buildRpm(version, release));
    }
    built.set('src', await buildSourceRpm());
    await writeFile(join(www, 'other-key.asc'), (await otherSigningKey()).armoredPublicKey);
    server = await startStaticServer(www);
    made.server = server;
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    const { server: madeServer, signer: madeSigner, root: madeRoot } = made;
    if (madeServer !== undefined) await new Promise<void>((resolve) => madeServer.close(() => resolve()));
    await madeSigner?.close();
    if (madeRoot !== undefined) await rm(madeRoot, { recursive: true, force: true });
  });

  const pkg = (key: string): RpmPackage => {
    const found = built.get(key);
    assert.ok(found, `test rpm ${key} was built`);
    return found;
  };

  it('writes a signed repository that dnf installs the newest version from', async (t) => {
    const v1 = await writeRpmRepository({
      dir: join(www, 'v1'),
      packages: [pkg('1.0'), pkg('src'), pkg('1.1')],
      signer,
    });
    t.diagnostic(`write v1 (3 rpms): ${JSON.stringify(v1.timingsMs)}`);
    assert.deepEqual(v1.files, [
      `noarch/${PACKAGE}-1.0-1.noarch.rpm`,
      `noarch/${PACKAGE}-1.1-1.noarch.rpm`,
      `src/${PACKAGE}-1.0-1.src.rpm`,
    ]);
    assert.equal(v1.signedCount, 3);
    const repodata = await readdir(join(www, 'v1', 'repodata'));
    assert.ok(repodata.includes('repomd.xml') && repodata.includes('repomd.xml.asc'), repodata.join(' '));
    assert.equal(await readFile(join(www, 'v1', 'key.asc'), 'utf8'), signer.publicKeyArmored);

    const keyId = signer.fingerprint.slice(-16).toLowerCase();
    assert.equal(await readRpmSigningKeyId(join(www, 'v1', v1.files[0] ?? '')), keyId);
    // The caller's file is copied before signing, never changed.
    assert.equal(await readRpmSigningKeyId(pkg('1.0').path), undefined);

    const started = performance.now();
    const outcome = await dnfInstall('v1', { keyUrl: `${baseUrl}/v1/key.asc` });
    t.diagnostic(`dnf install: ${Math.round(performance.now() - started)} ms`);
    assert.equal(outcome.exitCode, 0, outcome.output);
    assert.equal(outcome.installed, '1.1-1');
  });

  it('updates from the previous version: reuses its signed rpms, applies retention, dnf gets the new one', async (t) => {
    const previous = join(www, 'v1');
    const previousPackages = await Promise.all(
      [`noarch/${PACKAGE}-1.0-1.noarch.rpm`, `noarch/${PACKAGE}-1.1-1.noarch.rpm`].map((file) =>
        readRpmHeader(join(previous, file)),
      ),
    );
    const v2 = await writeRpmRepository({
      dir: join(www, 'v2'),
      packages: [...previousPackages, pkg('1.2')],
      signer,
      previousDir: previous,
      keepVersions: 2,
    });
    t.diagnostic(`write v2 with --update: ${JSON.stringify(v2.timingsMs)}`);
    assert.deepEqual(v2.files, [`noarch/${PACKAGE}-1.1-1.noarch.rpm`, `noarch/${PACKAGE}-1.2-1.noarch.rpm`]);
    assert.deepEqual(
      v2.dropped.map((dropped) => dropped.version),
      ['1.0'],
    );
    assert.equal(v2.signedCount, 1, 'only the new rpm is signed');

    const outcome = await dnfInstall('v2', { keyUrl: `${baseUrl}/v2/key.asc` });
    assert.equal(outcome.exitCode, 0, outcome.output);
    assert.equal(outcome.installed, '1.2-1');
  });

  it('is rejected by dnf when repomd.xml was changed after signing', async () => {
    await cp(join(www, 'v1'), join(www, 'tampered'), { recursive: true });
    const repomd = join(www, 'tampered', 'repodata', 'repomd.xml');
    await writeFile(repomd, (await readFile(repomd, 'utf8')).replace('</repomd>', '<!-- changed --></repomd>'));

    const outcome = await dnfInstall('tampered', { keyUrl: `${baseUrl}/tampered/key.asc` });
    assert.equal(outcome.exitCode, 1, outcome.output);
    assert.match(outcome.output, /repomd\.xml GPG signature verification error/);
    assert.equal(outcome.installed, undefined);
  });

  it('is rejected by a client that trusts another key, for the metadata and for the packages', async () => {
    const otherKeyUrl = `${baseUrl}/other-key.asc`;
    const metadata = await dnfInstall('v1', { keyUrl: otherKeyUrl });
    assert.equal(metadata.exitCode, 1, metadata.output);
    assert.match(metadata.output, /repomd\.xml GPG signature verification error/);
    assert.equal(metadata.installed, undefined);

    // Without the metadata check, the package signature alone must stop the install.
    const packages = await dnfInstall('v1', { keyUrl: otherKeyUrl, repoGpgcheck: false });
    assert.equal(packages.exitCode, 1, packages.output);
    assert.match(packages.output, /Import of key\(s\) didn't help, wrong key\(s\)\?/);
    assert.equal(packages.installed, undefined);
  });

  it('refuses a directory that is not empty and stops when aborted', async () => {
    await assert.rejects(
      writeRpmRepository({ dir: join(www, 'v1'), packages: [pkg('1.0')], signer }),
      (error: unknown) => isBuildfleetError(error, 'publish-failed') && !error.retriable,
    );
    await assert.rejects(
      writeRpmRepository({
        dir: join(www, 'aborted'),
        packages: [pkg('1.0')],
        signer,
        signal: AbortSignal.abort(new Error('shutting down')),
      }),
      (error: unknown) => isBuildfleetError(error, 'aborted'),
    );
  });
});
