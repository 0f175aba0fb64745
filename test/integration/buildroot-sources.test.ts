/**
 * The dependency step's package sources with real Podman, a real filesystem artifact store, the
 * collector's real apt repository writer and signer, and real apt inside the buildroot:
 * (a) an extra signed apt repository of the dist, served on 127.0.0.1, and the same with a wrong
 * key; (b) our own published repository: bfgreet builds against libbfgreet from the store,
 * reports builtAgainst, reuses its dependency layer, and gets a new one for a new library
 * version; (c) dependency-unresolvable. The dist name is unique per run, so every layer of it
 * is made by this run (the base image is shared with the other buildroot tests).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { publishNextVersion } from '../../collector/repo-builder.ts';
import { readDebPackage, writeAptRepository } from '../../collector/apt/index.ts';
import { createSigner, type Signer } from '../../collector/signing/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import type { BuildEvent, BuildRequest } from '../../shared/messages/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { createChrootBuildroot, createContainerBuildroot, type Buildroot } from '../../runner/buildroot/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import type { JobOutcome } from '../../runner/job/outcome.ts';
import { uploadArtifact } from '../../runner/job/artifacts.ts';
import { otherSigningKey, testSigningKey } from '../harness/gpg.ts';
import { uniqueName } from '../harness/names.ts';
import { usePodman } from '../harness/podman.ts';
import { workingTreeBuild } from '../harness/build-job.ts';

const GREET = fileURLToPath(new URL('../../examples/sources/projects/greet', import.meta.url));
const GREET_RPM = fileURLToPath(new URL('../fixtures/greet-rpm', import.meta.url));
const { socketPath } = await usePodman();
const engine = createDockerodeEngine({ socketPath });
const docker = new Docker({ socketPath });
const logger = createLogger({ name: 'buildroot-sources-test', level: 'silent' });
const DIST = uniqueName('bfsrc');
const REPO_KEY = `projects/greet/${DIST}`;
const RPM_DIST = `${DIST}-rpm`;

describe('buildroot package sources (podman, apt, own repositories)', { timeout: 30 * 60_000 }, () => {
  let dir: string;
  let sourcesDir: string;
  let store: ArtifactStore;
  let signer: Signer;
  let server: Server;
  let serverUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildroot-sources-'));
    store = await createFsArtifactStore({ root: join(dir, 'store') });
    signer = await createSigner({ armoredPrivateKey: (await testSigningKey()).armoredPrivateKey, workDir: dir });
    // The dist's extra repository: one tiny package, signed with another key, served on 127.0.0.1.
    const extraDir = join(dir, 'extra-repo');
    await mkdir(join(dir, 'other-signer'));
    await writeAptRepository({
      dir: extraDir,
      dist: 'extra',
      packages: [await readDebPackage(await tinyDeb(join(dir, 'tiny'), 'bfextra-dev', '2.0'))],
      signer: await createSigner({
        armoredPrivateKey: (await otherSigningKey()).armoredPrivateKey,
        workDir: join(dir, 'other-signer'),
      }),
    });
    await writeFile(join(extraDir, 'wrong.asc'), (await testSigningKey()).armoredPublicKey);
    server = createServer((request, response) => {
      const path = join(extraDir, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
      readFile(path).then(
        (body) => response.end(body),
        () => response.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    sourcesDir = join(dir, 'sources');
    await mkdir(join(sourcesDir, 'dists'), { recursive: true });
    await mkdir(join(sourcesDir, 'keys'), { recursive: true });
    await writeFile(join(sourcesDir, 'keys', 'extra.asc'), (await otherSigningKey()).armoredPublicKey);
    await writeDist(DIST, 'keys/extra.asc');
    await writeDist(`${DIST}-wrongkey`, `${serverUrl}/wrong.asc`);
    await cp(join(GREET, 'bfgreet'), join(sourcesDir, 'projects/greet/bfgreet'), { recursive: true });
    await retarget('projects/greet/bfgreet', DIST);
    await writeFile(
      join(sourcesDir, 'dists', `${RPM_DIST}.yml`),
      'format: rpm\nbase:\n  bootstrap: { tool: mmdebstrap, suite: bookworm, mirror: "http://deb.debian.org/debian", variant: minbase }\npackages: [rpm, build-essential]\n',
    );
    await cp(join(GREET_RPM, 'bfgreet'), join(sourcesDir, 'projects/greet/bfgreet-rpm'), { recursive: true });
    await writeFile(
      join(sourcesDir, 'projects/greet/bfgreet-rpm/buildfleet.yml'),
      `name: bfgreet\nkind: rpm\ntargets:\n  - { dist: ${RPM_DIST}, arch: x86_64 }\n`,
    );
    await debPackage('projects/x/usesextra', 'debhelper-compat (= 13), bfextra-dev (>= 2)', DIST);
    await debPackage('projects/x/wrongkey', 'debhelper-compat (= 13), bfextra-dev', `${DIST}-wrongkey`);
    await debPackage('projects/x/nothere', 'debhelper-compat (= 13), libnothere-dev', DIST);
    await debPackage('projects/x/toonew', 'debhelper-compat (= 13), libbfgreet-dev (>= 2)', DIST);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    for (const name of [DIST, `${DIST}-wrongkey`, RPM_DIST]) {
      const images = await docker.listImages({ filters: { label: [`org.buildfleet.dist=${name}`] } });
      for (const image of images) await engine.removeImage(image.Id).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function writeDist(name: string, extraKey: string): Promise<void> {
    await writeFile(
      join(sourcesDir, 'dists', `${name}.yml`),
      [
        'format: deb',
        'base:',
        '  bootstrap: { tool: mmdebstrap, suite: bookworm, mirror: "http://deb.debian.org/debian", variant: minbase }',
        'repositories:',
        `  - { url: "${serverUrl}", suite: extra, key: "${extraKey}" }`,
        'packages: [build-essential, debhelper]',
        '',
      ].join('\n'),
    );
  }

  async function retarget(project: string, dist: string): Promise<void> {
    const name = project.split('/').at(-1) ?? project;
    await writeFile(
      join(sourcesDir, project, 'buildfleet.yml'),
      `name: ${name}\nkind: deb\ntargets:\n  - { dist: ${dist}, arch: x86_64 }\n`,
    );
  }

  /** A package whose build only needs its Build-Depends to be installed. */
  async function debPackage(project: string, buildDepends: string, dist: string): Promise<void> {
    const name = project.split('/').at(-1) ?? project;
    const debian = join(sourcesDir, project, 'debian');
    await mkdir(join(debian, 'source'), { recursive: true });
    await writeFile(join(debian, 'source', 'format'), '3.0 (native)\n');
    await writeFile(
      join(debian, 'control'),
      `Source: ${name}\nMaintainer: t <t@example.invalid>\nBuild-Depends: ${buildDepends}\n\n` +
        `Package: ${name}\nArchitecture: all\nDescription: test\n test package\n`,
    );
    await writeFile(join(debian, 'rules'), '#!/usr/bin/make -f\n%:\n\tdh $@\n', { mode: 0o755 });
    await writeFile(
      join(debian, 'changelog'),
      `${name} (1.0) unstable; urgency=low\n\n  * test\n\n -- t <t@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000\n`,
    );
    await retarget(project, dist);
  }

  async function build(
    project: string,
    dist = DIST,
    kind: 'deb' | 'rpm' = 'deb',
    buildroot: Buildroot = createContainerBuildroot({ engine, logger, tmpDir: join(dir, 'tmp') }),
    rebuild?: BuildRequest['rebuild'],
  ): Promise<{ outcome: JobOutcome; log: string }> {
    return workingTreeBuild({ project, dist, kind, sourcesDir, store, buildroot, dir, logger, rebuild });
  }

  /** Builds the rpm libbfgreet fixture on the host and publishes it as build `buildId` through the collector. */
  async function publishRpmLibrary(buildId: string): Promise<void> {
    const top = join(dir, 'rpmbuild');
    await mkdir(join(top, 'home'), { recursive: true });
    await runCommand(
      'rpmbuild',
      [
        '-bb',
        '--nodeps',
        '--define',
        `_topdir ${top}`,
        '--define',
        `_sourcedir ${join(GREET_RPM, 'libbfgreet')}`,
        join(GREET_RPM, 'libbfgreet', 'libbfgreet.spec'),
      ],
      { timeoutMs: 300_000, env: { HOME: join(top, 'home') } },
    );
    const rpmsDir = join(top, 'RPMS', 'x86_64');
    const artifacts = [];
    for (const name of (await readdir(rpmsDir)).sort()) {
      artifacts.push(
        await uploadArtifact(store, `builds/${buildId}/attempt-1`, { name, kind: 'rpm', path: join(rpmsDir, name) }),
      );
    }
    const repoKey = `projects/greet/${RPM_DIST}`;
    const published = await publishNextVersion({
      store,
      signer,
      repoKey,
      format: 'rpm',
      dist: RPM_DIST,
      builds: [
        {
          v: 1,
          type: 'build.event',
          buildId,
          attempt: 1,
          buildKey: `projects/greet/libbfgreet-rpm@${RPM_DIST}.x86_64`,
          project: 'projects/greet/libbfgreet-rpm',
          target: { dist: RPM_DIST, arch: 'x86_64' },
          repoKey,
          state: 'succeeded',
          at: new Date().toISOString(),
          source: { service: 'runner', instance: 'test' },
          commit: '0'.repeat(40),
          artifacts,
        },
      ],
      workDir: join(dir, 'collector'),
      keepVersions: 3,
      repoUrl: `http://repos.test/${repoKey}/rpm`,
    });
    assert.ok(published.version, 'the rpm library was published');
  }

  /** Builds libbfgreet at `version` on the host and publishes its debs as build `buildId` through the collector. */
  async function publishLibrary(version: string, buildId: string): Promise<void> {
    const work = join(dir, `lib-${version}`);
    await cp(join(GREET, 'libbfgreet'), join(work, 'libbfgreet'), { recursive: true });
    const changelog = join(work, 'libbfgreet', 'debian', 'changelog');
    await writeFile(changelog, (await readFile(changelog, 'utf8')).replace('(1.0-1)', `(${version})`));
    await runCommand('dpkg-buildpackage', ['-us', '-uc', '-b'], {
      cwd: join(work, 'libbfgreet'),
      timeoutMs: 300_000,
      env: { DEB_BUILD_OPTIONS: 'noddebs' },
    });
    const artifacts = [];
    for (const name of (await readdir(work)).filter((n) => n.endsWith('.deb')).sort()) {
      artifacts.push(
        await uploadArtifact(store, `builds/${buildId}/attempt-1`, { name, kind: 'deb', path: join(work, name) }),
      );
    }
    const event: BuildEvent = {
      v: 1,
      type: 'build.event',
      buildId,
      attempt: 1,
      buildKey: `projects/greet/libbfgreet@${DIST}.x86_64`,
      project: 'projects/greet/libbfgreet',
      target: { dist: DIST, arch: 'x86_64' },
      repoKey: REPO_KEY,
      state: 'succeeded',
      at: new Date().toISOString(),
      source: { service: 'runner', instance: 'test' },
      commit: '0'.repeat(40),
      artifacts,
    };
    const published = await publishNextVersion({
      store,
      signer,
      repoKey: REPO_KEY,
      format: 'apt',
      dist: DIST,
      builds: [event],
      workDir: join(dir, 'collector'),
      keepVersions: 3,
      repoUrl: `http://repos.test/${REPO_KEY}/apt`,
    });
    assert.ok(published.version, 'the library was published');
  }

  const depsOutcome = (log: string): string | undefined => /\(base \w+, deps (\w+)\)/.exec(log)?.[1];

  it('installs a Build-Depends from the dist repository on 127.0.0.1, checked with its key', async () => {
    const { outcome, log } = await build('projects/x/usesextra');
    assert.equal(outcome.state, 'succeeded', log.slice(-3000));
    assert.match(log, /bfextra-dev/);
    assert.deepEqual(outcome.state === 'succeeded' ? outcome.builtAgainst : undefined, []);
  });

  it('fails clearly, naming the repository, when its key is wrong', async () => {
    const { outcome, log } = await build('projects/x/wrongkey', `${DIST}-wrongkey`);
    assert.equal(outcome.state, 'failed', log.slice(-3000));
    if (outcome.state !== 'failed') return;
    assert.equal(outcome.error.code, 'buildroot-failed');
    assert.ok(
      outcome.error.message.startsWith(
        `package repository not usable in the dependency step of ${DIST}-wrongkey: ${serverUrl}`,
      ),
      outcome.error.message,
    );
  });

  it('builds bfgreet against libbfgreet from our repository, reports it, and reuses the layer', async (t) => {
    await publishLibrary('1.0-1', 'lib-build-1');
    const first = await build('projects/greet/bfgreet');
    assert.equal(first.outcome.state, 'succeeded', first.log.slice(-4000));
    if (first.outcome.state !== 'succeeded') return;
    assert.deepEqual(first.outcome.builtAgainst, [
      { package: 'libbfgreet-dev', version: '1.0-1', buildId: 'lib-build-1' },
      { package: 'libbfgreet1', version: '1.0-1', buildId: 'lib-build-1' },
    ]);
    assert.equal(depsOutcome(first.log), 'made');
    assert.match(
      first.log,
      /from buildfleet's repository projects\/greet\/\S+: libbfgreet-dev 1\.0-1 \(build lib-build-1\)/,
    );
    assert.match(first.log, /installed from buildfleet's repositories:\n.*libbfgreet-dev 1\.0-1/);
    // The program is linked against the library: its package depends on libbfgreet1.
    const deb = first.outcome.artifacts.find((a) => a.name.startsWith('bfgreet_') && a.name.endsWith('.deb'));
    assert.ok(deb);
    const debPath = join(dir, 'bfgreet.deb');
    await writeFile(debPath, await store.get(deb.key));
    const depends = (await runCommand('dpkg-deb', ['-f', debPath, 'Depends'])).stdout;
    assert.match(depends, /libbfgreet1 \(>= 1\.0\)/);

    const second = await build('projects/greet/bfgreet');
    assert.equal(second.outcome.state, 'succeeded', second.log.slice(-3000));
    assert.equal(depsOutcome(second.log), 'reused');
    t.diagnostic(
      `buildroot phase: cold ${first.outcome.durations.buildroot} ms, warm ${second.outcome.durations.buildroot} ms`,
    );

    await publishLibrary('1.1-1', 'lib-build-2');
    const third = await build('projects/greet/bfgreet');
    assert.equal(third.outcome.state, 'succeeded', third.log.slice(-3000));
    assert.equal(depsOutcome(third.log), 'made', 'a new library version makes a new layer');
    assert.deepEqual(third.outcome.state === 'succeeded' ? third.outcome.builtAgainst : undefined, [
      { package: 'libbfgreet-dev', version: '1.1-1', buildId: 'lib-build-2' },
      { package: 'libbfgreet1', version: '1.1-1', buildId: 'lib-build-2' },
    ]);
  });

  it('chroot kind: installs from our repository the same way', async () => {
    const chroot = createChrootBuildroot({ cacheDir: join(dir, 'chroot-cache'), logger });
    const { outcome, log } = await build('projects/greet/bfgreet', DIST, 'deb', chroot);
    assert.equal(outcome.state, 'succeeded', log.slice(-4000));
    assert.deepEqual(outcome.state === 'succeeded' ? outcome.builtAgainst : undefined, [
      { package: 'libbfgreet-dev', version: '1.1-1', buildId: 'lib-build-2' },
      { package: 'libbfgreet1', version: '1.1-1', buildId: 'lib-build-2' },
    ]);
  });

  it('a rebuild against a new library gets version +b<N> and a changelog entry naming what it was built against', async () => {
    const because = [{ project: 'projects/greet/libbfgreet', buildId: 'lib-build-2' }];
    const { outcome, log } = await build('projects/greet/bfgreet', DIST, 'deb', undefined, { number: 1, because });
    assert.equal(outcome.state, 'succeeded', log.slice(-4000));
    if (outcome.state !== 'succeeded') return;
    const deb = outcome.artifacts.find((a) => a.name.startsWith('bfgreet_') && a.name.endsWith('.deb'));
    assert.equal(deb?.name, 'bfgreet_1.0-1+b1_amd64.deb');
    const debPath = join(dir, 'bfgreet-rebuilt.deb');
    await writeFile(debPath, await store.get(deb.key));
    assert.equal((await runCommand('dpkg-deb', ['-f', debPath, 'Version'])).stdout.trim(), '1.0-1+b1');
    const changelog = await runCommand('sh', [
      '-c',
      `dpkg-deb --fsys-tarfile '${debPath}' | tar -xO --wildcards './usr/share/doc/bfgreet/changelog.Debian*.gz' | gunzip`,
    ]);
    assert.match(changelog.stdout, /^bfgreet \(1\.0-1\+b1\) bookworm; urgency=low, binary-only=yes$/m);
    assert.match(changelog.stdout, /Rebuild against libbfgreet-dev 1\.1-1, libbfgreet1 1\.1-1\./);
  });

  it('rpm: installs BuildRequires our rpms provide from our rpm repository, the rest from apt', async () => {
    await publishRpmLibrary('rpm-lib-build-1');
    const { outcome, log } = await build('projects/greet/bfgreet-rpm', RPM_DIST, 'rpm');
    assert.equal(outcome.state, 'succeeded', log.slice(-4000));
    if (outcome.state !== 'succeeded') return;
    assert.deepEqual(outcome.builtAgainst, [
      { package: 'libbfgreet', version: '1.0-1', buildId: 'rpm-lib-build-1' },
      { package: 'libbfgreet-devel', version: '1.0-1', buildId: 'rpm-lib-build-1' },
    ]);
    assert.match(log, /installed from buildfleet's rpm repositories:\n\s+libbfgreet 1\.0-1/);
    const rpm = outcome.artifacts.find((a) => a.name.startsWith('bfgreet-1.0') && !a.name.endsWith('.src.rpm'));
    assert.ok(rpm);
    const rpmPath = join(dir, 'bfgreet.rpm');
    await writeFile(rpmPath, await store.get(rpm.key));
    const requires = (await runCommand('rpm', ['-qp', '--requires', rpmPath], { env: { HOME: dir } })).stdout;
    assert.match(requires, /libbfgreet\.so\.1\(\)\(64bit\)/, 'linked against our library');

    // A rebuild: release .b<N>, and the %changelog says against what.
    const because = [{ project: 'projects/greet/libbfgreet-rpm', buildId: 'rpm-lib-build-1' }];
    const again = await build('projects/greet/bfgreet-rpm', RPM_DIST, 'rpm', undefined, { number: 3, because });
    assert.equal(again.outcome.state, 'succeeded', again.log.slice(-4000));
    if (again.outcome.state !== 'succeeded') return;
    const rebuilt = again.outcome.artifacts.find(
      (a) => a.name.startsWith('bfgreet-1.0') && !a.name.endsWith('.src.rpm'),
    );
    assert.ok(rebuilt);
    const rebuiltPath = join(dir, 'bfgreet-rebuilt.rpm');
    await writeFile(rebuiltPath, await store.get(rebuilt.key));
    const release = await runCommand('rpm', ['-qp', '--qf', '%{RELEASE}', rebuiltPath], { env: { HOME: dir } });
    assert.equal(release.stdout.trim(), '1.b3');
    const rpmChangelog = await runCommand('rpm', ['-qp', '--changelog', rebuiltPath], { env: { HOME: dir } });
    assert.match(rpmChangelog.stdout, /- Rebuild against libbfgreet 1\.0-1, libbfgreet-devel 1\.0-1/);
  });

  it('fails with dependency-unresolvable for a missing package and for a version nobody has', async () => {
    for (const [project, need] of [
      ['projects/x/nothere', 'libnothere-dev'],
      ['projects/x/toonew', 'libbfgreet-dev (>= 2)'],
    ] as const) {
      const { outcome, log } = await build(project);
      assert.equal(outcome.state, 'failed', log.slice(-3000));
      if (outcome.state !== 'failed') continue;
      assert.equal(outcome.error.code, 'dependency-unresolvable');
      assert.ok(
        outcome.error.message.startsWith(`dependency-unresolvable: ${need} needed by ${project} `),
        outcome.error.message,
      );
    }
  });
});

/** A deb holding one file, made with dpkg-deb. */
async function tinyDeb(dir: string, name: string, version: string): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr/share', name), { recursive: true });
  await writeFile(join(root, 'usr/share', name, 'version'), `${version}\n`);
  await writeFile(
    join(root, 'DEBIAN', 'control'),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: t <t@example.invalid>\n` +
      `Section: misc\nPriority: optional\nDescription: tiny test package\n`,
  );
  const deb = join(dir, `${name}_${version}_all.deb`);
  await runCommand('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
  return deb;
}
