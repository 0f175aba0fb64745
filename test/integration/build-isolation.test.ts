/**
 * What a build sees of the runner, and what the runner's host shows in a build's records: real
 * build jobs (real dpkg-buildpackage on the host buildroot, the filesystem store) from a working
 * tree. A runner whose environment holds a secret builds a package whose debian/rules prints its
 * environment: the secret is not in the log, an allow-listed name is. The build's log and a
 * failure's message name the build directory as `<build>`, never the runner's path. A kiwi build
 * on a runner that does not allow host builds fails at once, saying which setting allows it.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { builderFor, HOST_BUILDS_REFUSED } from '../../runner/builders/index.ts';
import { chooseBuildroot, type Buildroot } from '../../runner/buildroot/index.ts';
import { workingTreeSource } from '../../runner/local-source.ts';
import { createRunner } from '../../runner/runner.ts';
import { EmbeddedBroker } from '../../shared/bus/embedded/broker.ts';
import { createEmbeddedBus } from '../../shared/bus/embedded/bus.ts';
import { createLogger } from '../../shared/log/index.ts';
import { decoderFor, routeOf, topicNames, type BuildEvent } from '../../shared/messages/index.ts';
import { createFsArtifactStore, type ArtifactStore } from '../../shared/storage/index.ts';
import { workingTreeBuild } from '../harness/build-job.ts';
import { testRequest, testTopics } from '../harness/cluster-fixtures.ts';
import { waitFor } from '../harness/wait.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/sources', import.meta.url));
const logger = createLogger({ name: 'build-isolation-test', level: 'silent' });
const SECRET_VALUE = 'sekrit-4b1d-value';
const SECRET_NAMES = ['BUILDFLEET_STORAGE_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY'];

/** A deb package without debhelper whose build prints its environment and working directory. */
function envPackage(name: string, fail: boolean): Record<string, string> {
  return {
    'buildfleet.yml': `name: ${name}\nkind: deb\ntargets:\n  - { dist: bookworm, arch: x86_64 }\n`,
    'debian/source/format': '3.0 (native)\n',
    'debian/changelog': `${name} (1.0) unstable; urgency=medium\n\n  * Test.\n\n -- T <t@buildfleet.invalid>  Mon, 07 Dec 2026 12:00:00 +0000\n`,
    'debian/control':
      `Source: ${name}\nMaintainer: T <t@buildfleet.invalid>\nStandards-Version: 4.6.2\n\n` +
      `Package: ${name}\nArchitecture: all\nDescription: prints its environment\n test\n`,
    'debian/rules': [
      '#!/usr/bin/make -f',
      'build build-arch build-indep:',
      '\techo "cwd $(CURDIR)"',
      '\tenv | sort',
      ...(fail ? ['\techo "failing in $(CURDIR)"; exit 3'] : []),
      'binary binary-arch binary-indep:',
      '\tmkdir -p debian/tmp/DEBIAN',
      `\tdpkg-gencontrol -p${name} -Pdebian/tmp`,
      '\tdpkg-deb --build debian/tmp ..',
      'clean:',
      '\trm -rf debian/tmp',
      '',
    ].join('\n'),
  };
}

describe('build isolation: environment, host paths, host builds', { timeout: 5 * 60_000 }, () => {
  let dir: string;
  let sourcesDir: string;
  let store: ArtifactStore;
  let host: Buildroot;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'build-isolation-'));
    sourcesDir = join(dir, 'sources');
    await cp(join(EXAMPLES, 'dists'), join(sourcesDir, 'dists'), { recursive: true });
    await cp(join(EXAMPLES, 'projects/images/hello-kiwi'), join(sourcesDir, 'projects/images/hello-kiwi'), {
      recursive: true,
    });
    for (const [project, fail] of [
      ['projects/t/xenv', false],
      ['projects/t/xfail', true],
    ] as const) {
      for (const [file, text] of Object.entries(envPackage(project.split('/').at(-1) ?? '', fail))) {
        const path = join(sourcesDir, project, file);
        await mkdir(join(path, '..'), { recursive: true });
        await writeFile(path, text, { mode: file === 'debian/rules' ? 0o755 : 0o644 });
      }
    }
    store = await createFsArtifactStore({ root: join(dir, 'store') });
    // The runner's own environment, handed over as runner/service.ts does: with secrets in it.
    for (const name of SECRET_NAMES) process.env[name] = SECRET_VALUE;
    process.env['BF_TEST_ALLOWED'] = 'allowed-value';
    host = await chooseBuildroot({
      preferred: 'host',
      cacheDir: join(dir, 'cache'),
      logger,
      hostEnv: { inherited: process.env, allow: ['BF_TEST_ALLOWED'] },
    });
  });
  after(async () => {
    for (const name of [...SECRET_NAMES, 'BF_TEST_ALLOWED']) Reflect.deleteProperty(process.env, name);
    await rm(dir, { recursive: true, force: true });
  });

  const build = (project: string, kind: 'deb' | 'kiwi') =>
    workingTreeBuild({ project, dist: 'bookworm', kind, sourcesDir, store, buildroot: host, dir, logger });

  it('gives host build scripts a clean environment: no runner secrets, allow-listed names, HOME in the build', async () => {
    const { outcome, log } = await build('projects/t/xenv', 'deb');
    assert.equal(outcome.state, 'succeeded', log);
    assert.match(log, /^BF_TEST_ALLOWED=allowed-value$/m);
    assert.match(log, /^LC_ALL=C\.UTF-8$/m);
    assert.match(log, /^HOME=<build>\/repo\/projects\/t\/xenv$/m);
    assert.ok(!log.includes(SECRET_VALUE), 'the secret value is not in the log');
    assert.doesNotMatch(log, /^(AWS_|BUILDFLEET_STORAGE)/m);
    // Host paths: the build's directory is <build>, the script's scratch directory <scratch>.
    assert.ok(!log.includes(dir), `the runner's paths are not in the log:\n${log}`);
    assert.match(log, /^cwd <scratch>\/xenv$/m);
  });

  it('keeps host paths out of a failure message', async () => {
    const { outcome, log } = await build('projects/t/xfail', 'deb');
    assert.equal(outcome.state, 'failed', log);
    assert.ok('error' in outcome);
    assert.equal(outcome.error.code, 'build-failed');
    assert.match(outcome.error.message, /failing in <scratch>\/xfail/);
    assert.ok(!outcome.error.message.includes(dir), outcome.error.message);
    assert.ok(!log.includes(dir), log);
  });

  it('refuses a kiwi build on a runner group that does not allow host builds', async () => {
    const { outcome, log } = await build('projects/images/hello-kiwi', 'kiwi');
    assert.equal(outcome.state, 'failed', log);
    assert.ok('error' in outcome);
    assert.equal(outcome.error.code, 'kind-unsupported');
    assert.equal(outcome.error.retriable, false);
    assert.equal(outcome.error.message, HOST_BUILDS_REFUSED);
    assert.doesNotMatch(log, /kiwi: kiwi-ng/, 'kiwi-ng did not run');
  });

  it('keeps host paths out of the failure of a build job that could not start (runner on a bus)', async () => {
    const prefix = `isolation${Date.now().toString(36)}`;
    const topics = topicNames(prefix);
    const bus = createEmbeddedBus({ broker: new EmbeddedBroker(), topicPrefix: prefix, logger });
    await bus.ensureTopics(testTopics(prefix));
    const events: BuildEvent[] = [];
    const watch = await bus.subscribe<BuildEvent>({
      name: 'events-watch',
      topics: [topics.events],
      start: 'earliest',
      decode: decoderFor('build.event'),
      handle: async (record) => void events.push(record.value),
    });
    await watch.ready;
    // The work directory is a file: the job fails making the build's directory, before it can log.
    const workDir = join(dir, 'work-is-a-file');
    await writeFile(workDir, '');
    const runner = createRunner({
      runnerId: 'isolation-runner',
      group: 'default',
      arches: ['x86_64'],
      slots: 1,
      heartbeatMs: 1000,
      graceMs: 1000,
      bus,
      logger,
      job: {
        sources: workingTreeSource(sourcesDir),
        store,
        buildroot: host,
        builderFor,
        workDir,
        limits: { memoryMb: 1024, pids: 1024, timeoutMinutes: 5 },
      },
    });
    try {
      await runner.start();
      const request = testRequest({
        project: 'projects/t/xenv',
        dist: 'bookworm',
        kind: 'deb',
        url: sourcesDir,
        commit: '0'.repeat(40),
      });
      const { topic, record } = routeOf(topics, request);
      await bus.publish(topic, record);
      await waitFor(() => events.some((e) => e.buildId === request.buildId && e.state === 'failed'), 'failed', 20_000);
      const failed = events.find((e) => e.buildId === request.buildId && e.state === 'failed');
      assert.equal(failed?.error?.code, 'internal');
      assert.match(failed?.error?.message ?? '', /<work>\//);
      assert.ok(!(failed?.error?.message ?? '').includes(dir), failed?.error?.message);
    } finally {
      await runner.stop();
      await bus.close();
    }
  });
});
