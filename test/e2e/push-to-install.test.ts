/**
 * From a git push to an installed package, with no manual submit (issue 5): the example
 * sources repo is served by `git daemon`; buildfleet's services (the all-in-one assembly on
 * real Kafka, with Podman container buildroots) notice the commit, build both example
 * packages, publish them, and apt-get / dnf install them from the published repositories.
 * A second push changing one package rebuilds only that package; a push changing only its
 * buildfleet.yml rebuilds it too. `buildfleet status --json` shows `published` with phase
 * durations.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import pino from 'pino';
import { startAllInOne, type AllInOne } from '../../cli/up/all-in-one.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRecord } from '../../shared/messages/index.ts';
import { exampleSourcesRepo } from '../harness/cluster-fixtures.ts';
import { startGitDaemon, type GitDaemon } from '../harness/git-daemon.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from '../harness/git.ts';
import { aptInstallInContainer, dnfInstallPublished } from '../harness/install-published.ts';
import { useKafka } from '../harness/kafka.ts';
import { usePodman } from '../harness/podman.ts';
import { waitFor } from '../harness/wait.ts';

const [{ brokers }, podman] = await Promise.all([useKafka(), usePodman()]);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'buildfleet.js');
const DEB = 'projects/demo/hello-deb';
const RPM = 'projects/demo/hello-rpm';

describe(
  'git push -> build -> signed repository -> apt-get and dnf install (real Kafka, Podman)',
  { timeout: 900_000 },
  () => {
    const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
    let repos: TestGitRepos;
    let sources: TestGitRepo;
    let daemon: GitDaemon;
    let cluster: AllInOne;
    let work: string;

    before(async () => {
      repos = await testGitRepos('buildfleet-e2e-');
      // The deb and rpm examples: the image examples need a registry and KIWI, not part of this test.
      sources = await exampleSourcesRepo(repos, { projects: ['demo'] });
      await sources.commit('example sources');
      daemon = await startGitDaemon(join(sources.dir, '..'));
      work = await repos.tempDir('work');
      cluster = await startAllInOne({
        dataDir: join(work, 'data'),
        sources: daemon.urlOf(sources),
        port: 0,
        brokers,
        topicPrefix: `e2e${randomUUID().slice(0, 8)}`,
        buildroot: 'container',
        engineSocket: podman.socketPath,
        pollIntervalMs: 1000,
        slots: 2,
        logger,
      });
    });

    after(async () => {
      await cluster?.stop();
      await daemon?.stop();
      await repos?.cleanup();
    });

    const builds = (project: string): BuildRecord[] => cluster.info.view.list({ project, limit: 100 }).builds;
    async function published(project: string, count: number): Promise<BuildRecord[]> {
      await waitFor(
        () => {
          const found = builds(project);
          const failed = found.find((b) => ['failed', 'cancelled', 'timed-out', 'unresolvable'].includes(b.state));
          if (failed) throw new Error(`${failed.buildKey} ${failed.state}: ${JSON.stringify(failed.error)}`);
          return found.length >= count && found.every((b) => b.state === 'published' || b.state === 'superseded');
        },
        `${count} published build(s) of ${project}`,
        600_000,
        250,
      );
      return builds(project);
    }

    it('builds and publishes both example packages after the first push, and apt-get and dnf install them', async () => {
      const [deb] = await published(DEB, 1);
      const [rpm] = await published(RPM, 1);
      assert.ok(deb && rpm);
      assert.equal(deb.commit, await sources.git('rev-parse', 'HEAD'));

      const status = await execa('node', [BIN, 'status', DEB, '--json', '--api', cluster.url], { reject: false });
      assert.equal(status.exitCode, 0, status.stderr);
      const records = JSON.parse(status.stdout) as BuildRecord[];
      assert.equal(records[0]?.state, 'published');
      for (const phase of ['checkout', 'buildroot', 'build', 'upload'] as const) {
        assert.equal(typeof records[0]?.durations?.[phase], 'number', `duration of ${phase}`);
      }

      // apt-get in a fresh bookworm container, with the published key only (signed-by).
      const aptUrl = deb.repo?.url;
      assert.ok(aptUrl);
      const installed = await aptInstallInContainer({
        socketPath: podman.socketPath,
        sourcesDir: sources.dir,
        workDir: work,
        aptUrl,
        pkg: 'hello-deb',
        command: 'hello-deb --version',
        logger,
      });
      assert.match(installed, /hello-deb 1\.0/);

      // dnf with gpgcheck and repo_gpgcheck from the published rpm-md repository.
      const root = await dnfInstallPublished({ apiUrl: cluster.url, record: rpm, name: 'hello-rpm', workDir: work });
      const version = await runCommand(join(root, 'usr/bin/hello-rpm'), ['--version']);
      assert.match(version.stdout, /hello-rpm 1\.0/);
    });

    it('a push changing one package rebuilds only it; a change to only its buildfleet.yml rebuilds it too', async () => {
      const before = { deb: builds(DEB).length, rpm: builds(RPM).length };
      const changelog = join(sources.dir, DEB, 'hello-deb.c');
      await writeFile(changelog, `${await readFile(changelog, 'utf8')}\n/* a change */\n`);
      const second = await sources.commit('change hello-deb');
      await waitFor(() => builds(DEB).some((b) => b.commit === second), 'a build of the new commit', 60_000);
      const [latest] = await published(DEB, before.deb + 1);
      assert.equal(latest?.commit, second);
      assert.equal(builds(RPM).length, before.rpm, 'hello-rpm was not rebuilt');

      const metadata = join(sources.dir, RPM, 'buildfleet.yml');
      await writeFile(metadata, `${await readFile(metadata, 'utf8')}# a comment\n`);
      const third = await sources.commit('touch hello-rpm metadata');
      await waitFor(
        () => builds(RPM).some((b) => b.commit === third),
        'a build of hello-rpm at the third commit',
        60_000,
      );
      await published(RPM, before.rpm + 1);
      assert.equal(builds(DEB).length, before.deb + 1, 'hello-deb was not rebuilt for an hello-rpm change');
    });
  },
);
