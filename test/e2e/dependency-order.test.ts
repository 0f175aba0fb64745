/**
 * Packages that build against each other (issue 11), end to end on real parts: the all-in-one
 * services on real Kafka with Podman container buildroots build a C library (libbfgreet:
 * libbfgreet1 + libbfgreet-dev) and a program whose debian/control Build-Depends on
 * libbfgreet-dev, both arriving in one push. The library is built and published first; the
 * program is dispatched only after that, its buildroot installs the library from buildfleet's own
 * signed repository, and its record says what it was built against. A real apt-get in a fresh
 * container installs the program together with the library it depends on, and it runs. The rpm
 * twins (a library with a -devel subpackage, a program with BuildRequires on it) build in order
 * too, and dnf resolves the program's requirement to our library. A package
 * needing something nobody has fails at the dependency step with dependency-unresolvable, and the
 * services go on.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { AllInOne } from '../../cli/up/all-in-one.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRecord } from '../../shared/messages/index.ts';
import { startTestAllInOne } from '../harness/all-in-one.ts';
import { exampleSourcesRepo } from '../harness/cluster-fixtures.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from '../harness/git.ts';
import { aptInstallInContainer, startAptContainer } from '../harness/install-published.ts';
import { useKafka } from '../harness/kafka.ts';
import { usePodman } from '../harness/podman.ts';
import { waitFor } from '../harness/wait.ts';

const [{ brokers }, podman] = await Promise.all([useKafka(), usePodman()]);
const LIB = 'projects/greet/libbfgreet';
const APP = 'projects/greet/bfgreet';
const MISSING = 'projects/broken/needs-missing';
const RPM_LIB = 'projects/greet-rpm/libbfgreet';
const RPM_APP = 'projects/greet-rpm/bfgreet';
const RPM_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'greet-rpm');

/** A deb package whose Build-Depends nobody can satisfy: not in Debian, not ours, and versioned. */
const missingPackage: Record<string, string> = {
  'buildfleet.yml': 'targets:\n  - { dist: bookworm, arch: x86_64 }\n',
  'debian/control':
    'Source: needs-missing\nSection: misc\nPriority: optional\nMaintainer: Test <test@example.org>\n' +
    'Build-Depends: debhelper-compat (= 13), libnothere-dev (>= 2)\nStandards-Version: 4.6.2\n\n' +
    'Package: needs-missing\nArchitecture: any\nDescription: needs what nobody has\n never builds\n',
  'debian/changelog':
    'needs-missing (1.0-1) unstable; urgency=medium\n\n  * Test.\n\n' +
    ' -- Test <test@example.org>  Mon, 07 Dec 2026 00:00:00 +0000\n',
  'debian/rules': '#!/usr/bin/make -f\n%:\n\tdh $@\n',
  'debian/source/format': '3.0 (native)\n',
};

describe('packages build against each other (real Kafka, Podman, apt-get)', { timeout: 1_200_000 }, () => {
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  let repos: TestGitRepos;
  let sources: TestGitRepo;
  let cluster: AllInOne;
  let work: string;

  before(async () => {
    repos = await testGitRepos('buildfleet-deps-');
    sources = await exampleSourcesRepo(repos, { projects: ['greet'] });
    for (const [file, text] of Object.entries(missingPackage)) {
      const path = join(sources.dir, MISSING, file);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, text, { mode: file === 'debian/rules' ? 0o755 : 0o644 });
    }
    await cp(RPM_FIXTURES, join(sources.dir, 'projects', 'greet-rpm'), { recursive: true });
    await sources.commit('a library, its user (deb and rpm), and a package needing what nobody has');
    work = await repos.tempDir('work');
    cluster = await startTestAllInOne({
      work,
      sources: sources.dir,
      brokers,
      podmanSocket: podman.socketPath,
      prefix: 'dep',
      logger,
    });
  });

  after(async () => {
    await cluster?.stop();
    await repos?.cleanup();
  });

  const ENDS = ['published', 'failed', 'cancelled', 'timed-out'];
  const latest = (project: string): BuildRecord | undefined => cluster.info.view.list({ project, limit: 10 }).builds[0];
  async function ended(project: string): Promise<BuildRecord> {
    await waitFor(
      () => ['published', 'failed', 'cancelled', 'timed-out'].includes(latest(project)?.state ?? ''),
      `${project} to end`,
      900_000,
      250,
    );
    const record = latest(project);
    assert.ok(record);
    return record;
  }
  const timeOf = (record: BuildRecord, state: string): number => {
    const entry = record.history.find((h) => h.state === state);
    assert.ok(entry, `${record.buildKey} has a ${state} entry`);
    return Date.parse(entry.at);
  };

  /** `dnf repoquery <args>` against our rpm-md repository at url, signatures checked, in an empty installroot. */
  async function dnfQuery(url: string, args: string[]) {
    const run = await repos.tempDir('dnf');
    await writeFile(join(run, 'dnf.conf'), '[main]\n');
    await mkdir(join(run, 'repos.d'));
    return runCommand('dnf', [
      `--config=${join(run, 'dnf.conf')}`,
      `--installroot=${join(run, 'root')}`,
      '--releasever=12',
      `--setopt=reposdir=${join(run, 'repos.d')}`,
      `--setopt=cachedir=${join(run, 'cache')}`,
      `--repofrompath=bf,${url}/`,
      '--setopt=bf.gpgcheck=1',
      '--setopt=bf.repo_gpgcheck=1',
      `--setopt=bf.gpgkey=${url}/key.asc`,
      '-y',
      '-q',
      'repoquery',
      ...args,
    ]);
  }

  it('builds the library first and the program against it, and apt-get installs and runs the program', async () => {
    const app = await ended(APP);
    const lib = await ended(LIB);
    assert.equal(lib.state, 'published', JSON.stringify(lib.error));
    assert.equal(app.state, 'published', JSON.stringify(app.error));
    assert.ok(
      app.history.some((h) => h.state === 'waiting'),
      'the program waited',
    );
    assert.ok(
      timeOf(app, 'claimed') >= timeOf(lib, 'published'),
      'the program ran only after the library was published',
    );
    const against = new Map((app.builtAgainst ?? []).map((b) => [b.package, b]));
    assert.equal(against.get('libbfgreet-dev')?.version, '1.0-1');
    assert.equal(against.get('libbfgreet-dev')?.buildId, lib.buildId);

    const aptUrl = app.repo?.url;
    assert.ok(aptUrl);
    const output = await aptInstallInContainer({
      socketPath: podman.socketPath,
      sourcesDir: sources.dir,
      workDir: work,
      aptUrl,
      pkg: 'bfgreet',
      command: 'dpkg-query -W libbfgreet1 && bfgreet',
      logger,
    });
    assert.match(output, /libbfgreet1\s+1\.0-1/);
    assert.match(output, /bfgreet using libbfgreet 1\.0/);
  });

  it('rpm: the program is built after the library, against it, and dnf resolves its requirement to our library', async () => {
    const app = await ended(RPM_APP);
    const lib = await ended(RPM_LIB);
    assert.equal(lib.state, 'published', JSON.stringify(lib.error));
    assert.equal(app.state, 'published', JSON.stringify(app.error));
    assert.ok(
      timeOf(app, 'claimed') >= timeOf(lib, 'published'),
      'the program ran only after the library was published',
    );
    const against = new Map((app.builtAgainst ?? []).map((b) => [b.package, b]));
    assert.equal(against.get('libbfgreet-devel')?.buildId, lib.buildId);

    const url = app.repo?.url;
    assert.ok(url);
    const query = await dnfQuery(url, ['--requires', '--resolve', 'bfgreet']);
    assert.match(query.stdout, /^libbfgreet-0:1\.0-1\.x86_64$/m, query.stdout);
  });

  it('a need that neither our packages nor the dist satisfy fails with dependency-unresolvable, and nothing is stuck', async () => {
    const failed = await ended(MISSING);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.code, 'dependency-unresolvable');
    assert.match(failed.error?.message ?? '', /libnothere-dev \(>= 2\)/);
    assert.match(failed.error?.message ?? '', new RegExp(MISSING));
    const waiting = cluster.info.view.list({ limit: 100 }).builds.filter((b) => b.state === 'waiting');
    assert.deepEqual(waiting, [], 'no build left waiting');
  });
  it('a commit changing only the library rebuilds the program (+b1, .b1): apt-get --only-upgrade and dnf take the rebuild', async () => {
    const before = latest(APP);
    assert.ok(before?.repo?.url);
    // A user who installed the program before the change.
    const container = await startAptContainer({
      socketPath: podman.socketPath,
      sourcesDir: sources.dir,
      workDir: work,
      aptUrl: before.repo.url,
      pkg: 'bfgreet',
      logger,
    });
    try {
      const changelog = join(sources.dir, LIB, 'debian', 'changelog');
      const entry =
        'libbfgreet (1.1-1) bookworm; urgency=medium\n\n  * New upstream release.\n\n' +
        ' -- buildfleet examples <examples@buildfleet.invalid>  Mon, 07 Dec 2026 00:00:00 +0000\n\n';
      await writeFile(changelog, entry + (await readFile(changelog, 'utf8')));
      const spec = join(sources.dir, RPM_LIB, 'libbfgreet.spec');
      await writeFile(spec, (await readFile(spec, 'utf8')).replace(/^Version:(\s+)1\.0$/m, 'Version:$11.1'));
      await sources.commit('libbfgreet 1.1 (deb and rpm); nothing else changes');

      const rebuilt = async (project: string): Promise<BuildRecord> => {
        await waitFor(
          () => latest(project)?.rebuild !== undefined && ENDS.includes(latest(project)?.state ?? ''),
          `the rebuild of ${project}`,
          900_000,
          500,
        );
        const record = latest(project);
        assert.ok(record);
        assert.equal(record.state, 'published', JSON.stringify(record.error));
        return record;
      };
      const app = await rebuilt(APP);
      const lib = latest(LIB);
      assert.equal(lib?.state, 'published');
      assert.deepEqual(app.rebuild, { number: 1, because: [{ project: LIB, buildId: lib?.buildId }] });
      const against = new Map((app.builtAgainst ?? []).map((b) => [b.package, b]));
      assert.equal(against.get('libbfgreet-dev')?.version, '1.1-1');
      assert.ok(
        app.artifacts.some((a) => a.name === 'bfgreet_1.0-1+b1_amd64.deb'),
        app.artifacts.map((a) => a.name).join(', '),
      );

      const upgraded = await container.run(
        'apt-get update -qq && apt-get install -y -qq --only-upgrade bfgreet libbfgreet1 >/dev/null' +
          ' && dpkg-query -W bfgreet libbfgreet1 && bfgreet && zcat /usr/share/doc/bfgreet/changelog.Debian.amd64.gz',
      );
      assert.match(upgraded, /^bfgreet\s+1\.0-1\+b1$/m);
      assert.match(upgraded, /^libbfgreet1\s+1\.1-1$/m);
      assert.match(upgraded, /bfgreet using libbfgreet 1\.1/);
      assert.match(upgraded, /Rebuild against .*libbfgreet-dev 1\.1-1/);

      const rpmApp = await rebuilt(RPM_APP);
      assert.equal(rpmApp.rebuild?.number, 1);
      const url = rpmApp.repo?.url;
      assert.ok(url);
      const newest = await dnfQuery(url, ['--latest-limit=1', '--qf', '%{name}-%{evr}', 'bfgreet']);
      assert.match(newest.stdout, /^bfgreet-1\.0-1\.b1$/m, newest.stdout);
      const requires = await dnfQuery(url, ['--requires', '--resolve', '--latest-limit=1', 'bfgreet']);
      assert.match(requires.stdout, /^libbfgreet-0:1\.1-1\.x86_64$/m, requires.stdout);
    } finally {
      await container.remove();
    }
  });
});
