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
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import pino from 'pino';
import type { AllInOne } from '../../cli/up/all-in-one.ts';
import type { BuildRecord } from '../../shared/messages/index.ts';
import { exampleSourcesRepo } from '../harness/cluster-fixtures.ts';
import { startGitDaemon, type GitDaemon } from '../harness/git-daemon.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from '../harness/git.ts';
import { assertHelloExamplesInstall, startTestAllInOne } from '../harness/all-in-one.ts';
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
      cluster = await startTestAllInOne({
        work,
        sources: daemon.urlOf(sources),
        brokers,
        podmanSocket: podman.socketPath,
        prefix: 'e2e',
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

      await assertHelloExamplesInstall({
        podmanSocket: podman.socketPath,
        sourcesDir: sources.dir,
        work,
        deb,
        rpm,
        apiUrl: cluster.url,
        logger,
      });
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
