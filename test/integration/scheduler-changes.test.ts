import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CursorStore } from '../../scheduler/changes/cursors.ts';
import { createGitWebhookHandler, webhookRoute } from '../../scheduler/changes/webhook.ts';
import { createHttpServer, type HttpServer } from '../../shared/http/index.ts';
import {
  createSourceWatcher,
  type PollOutcome,
  type SourceWatcher,
  type SourceWatcherOptions,
} from '../../scheduler/changes/watcher.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import type { BuildSubmit } from '../../shared/messages/index.ts';
import { createSourceMirror, type SourceRepo } from '../../shared/sources/index.ts';
import { githubPing, githubPush, giteaPush, gitlabPush, sign, type Delivery } from '../fixtures/webhooks.ts';
import { exampleSourcesRepo } from '../harness/cluster-fixtures.ts';
import { markExportable, startGitDaemon, type GitDaemon } from '../harness/git-daemon.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from '../harness/git.ts';
import { freePort } from '../harness/ports.ts';
import { waitFor } from '../harness/wait.ts';

const logger = createLogger({ name: 'test', level: 'silent' });
const DEB = 'projects/demo/hello-deb';
const RPM = 'projects/demo/hello-rpm';
const SECRET = 'webhook secret for the test';

/** What the scheduler keeps in buildfleet.state, in memory; `writes` shows the order of set() calls. */
function memoryCursors(): CursorStore & { entries: Map<string, string>; writes: string[][] } {
  const entries = new Map<string, string>();
  const writes: string[][] = [];
  return {
    entries,
    writes,
    get: (name) => entries.get(name),
    set(list) {
      writes.push(list.map(({ name }) => name));
      for (const { name, commit } of list) entries.set(name, commit);
      return Promise.resolve();
    },
  };
}

function projects(outcome: PollOutcome): string[] {
  assert.equal(outcome.status, 'processed', JSON.stringify(outcome));
  return outcome.status === 'processed' ? outcome.decisions.map((decision) => decision.project) : [];
}

describe('change detection with real git (git daemon)', { timeout: 120_000 }, () => {
  let repos: TestGitRepos;
  let origin: TestGitRepo;
  let daemon: GitDaemon;
  let url: string;
  let sources: SourceRepo;
  let workDir: string;
  const cursors = memoryCursors();
  const submitted: BuildSubmit[][] = [];
  const watchers: SourceWatcher[] = [];

  function watcher(overrides: Partial<SourceWatcherOptions> = {}): SourceWatcher {
    const made = createSourceWatcher({
      sources,
      url,
      branch: 'main',
      intervalMs: 10 * 60_000,
      workDir,
      cursors,
      submit: (submits) => {
        submitted.push(submits);
        return Promise.resolve();
      },
      logger,
      ...overrides,
    });
    watchers.push(made);
    return made;
  }

  before(async () => {
    repos = await testGitRepos('buildfleet-changes-');
    origin = await exampleSourcesRepo(repos, { projects: ['demo'] });
    await origin.commit('example sources');
    await markExportable(origin);
    daemon = await startGitDaemon(dirname(origin.dir));
    url = daemon.urlOf(origin);
    sources = createSourceMirror({ cacheDir: await repos.tempDir('cache'), logger });
    workDir = await repos.tempDir('work');
  });
  after(async () => {
    await Promise.all(watchers.map((made) => made.stop()));
    await daemon?.stop();
    await repos?.cleanup();
  });

  it('submits every package on the first poll, then moves the cursors', async () => {
    const head = await origin.git('rev-parse', 'HEAD');
    const outcome = await watcher().poll();
    assert.deepEqual(projects(outcome), [DEB, RPM]);
    const [submits] = submitted.splice(0);
    assert.deepEqual(
      submits?.map(({ at, ...rest }) => (assert.ok(!Number.isNaN(Date.parse(at ?? ''))), rest)),
      [DEB, RPM].map((project) => ({
        v: 1,
        type: 'build.submit',
        submitId: `change:${project}@${head}`,
        project,
        ref: head,
        reason: 'source-change',
        requestedBy: 'git-watcher',
      })),
    );
    assert.deepEqual(cursors.writes.at(-1), [`built:${DEB}`, `built:${RPM}`, 'branch:main']);
    assert.equal(cursors.entries.get('branch:main'), head);
    assert.equal(cursors.entries.get(`built:${DEB}`), head);
    // The temporary checkout is gone.
    assert.deepEqual(await readdir(workDir), []);
  });

  it('submits only the package whose files changed', async () => {
    const scan = watcher();
    await origin.commitFiles({ [`${DEB}/hello-deb.c`]: '#include <stdio.h>\nint main(void){puts("hi");}\n' });
    assert.deepEqual(projects(await scan.poll()), [DEB]);
    await origin.commitFiles({
      [`${RPM}/buildfleet.yml`]: 'name: hello-rpm\nkind: rpm\ntargets:\n  - { dist: rpm-bookworm, arch: x86_64 }\n',
    });
    assert.deepEqual(projects(await scan.poll()), [RPM]);
    const head = await origin.git('rev-parse', 'HEAD');
    assert.deepEqual(
      submitted
        .splice(0)
        .flat()
        .map((submit) => submit.submitId),
      [`change:${DEB}@${cursors.entries.get(`built:${DEB}`)}`, `change:${RPM}@${head}`],
    );
  });

  it('submits the packages of a dist whose file changed, and nothing for changes outside packages', async () => {
    const scan = watcher();
    const bookworm = await origin.git('show', 'HEAD:dists/bookworm.yml');
    await origin.commitFiles({ 'dists/bookworm.yml': `${bookworm}\n# a comment\n` });
    assert.deepEqual(projects(await scan.poll()), [DEB]);
    await origin.commitFiles({ 'README.md': 'the sources of the demo\n', 'projects/demo/NOTES': 'not a package\n' });
    const outside = await scan.poll();
    assert.deepEqual(projects(outside), []);
    assert.equal(cursors.entries.get('branch:main'), await origin.git('rev-parse', 'HEAD'));
    assert.deepEqual((await scan.poll()).status, 'unchanged');
    assert.deepEqual(
      submitted
        .splice(0)
        .flat()
        .map((submit) => submit.project),
      [DEB],
    );
  });

  it('submits nothing new after a restart with the same cursors (and a fresh mirror)', async () => {
    const restarted = watcher({ sources: createSourceMirror({ cacheDir: await repos.tempDir('cache2'), logger }) });
    const outcome = await restarted.poll();
    assert.equal(outcome.status, 'unchanged');
    assert.deepEqual(submitted, []);
  });

  it('still submits packages whose metadata is broken, by their own file or by their dist', async () => {
    const scan = watcher();
    const good = await origin.git('show', `HEAD:${RPM}/buildfleet.yml`);
    await origin.commitFiles({ [`${RPM}/buildfleet.yml`]: 'name: hello-rpm\ntargets: [ {dist: rpm-bookworm\n' });
    assert.deepEqual(projects(await scan.poll()), [RPM]);
    await origin.commitFiles({ [`${RPM}/buildfleet.yml`]: good });
    assert.deepEqual(projects(await scan.poll()), [RPM]);
    // A broken dist file breaks its packages: they are rebuilt so that the build reports it.
    const dist = await origin.git('show', 'HEAD:dists/rpm-bookworm.yml');
    await origin.commitFiles({ 'dists/rpm-bookworm.yml': 'format: rpm\nnot-a-key: 1\n' });
    const broken = await scan.poll();
    assert.deepEqual(projects(broken), [RPM]);
    assert.equal(broken.status === 'processed' ? broken.decisions[0]?.reason.kind : '', 'dist-changed');
    await origin.commitFiles({ 'dists/rpm-bookworm.yml': dist });
    assert.deepEqual(projects(await scan.poll()), [RPM]);
    submitted.splice(0);
  });

  it('skips a package directory whose path can be no project, and builds the others', async () => {
    const scan = watcher();
    const yml = await origin.git('show', `HEAD:${DEB}/buildfleet.yml`);
    await origin.commitFiles({
      'projects/demo/bad@name/buildfleet.yml': yml,
      [`${DEB}/NEWS`]: 'skipping bad package directories\n',
    });
    const outcome = await scan.poll();
    assert.deepEqual(projects(outcome), [DEB], 'the bad directory is not submitted; the changed package is');
    assert.deepEqual(
      submitted.splice(0).flatMap((submits) => submits.map((submit) => submit.project)),
      [DEB],
    );
  });

  it('keeps the cursors when submitting fails, and submits the same ids at the next poll', async () => {
    await origin.commitFiles({ [`${DEB}/Makefile.extra`]: 'all:\n' });
    const before = cursors.entries.get('branch:main');
    const failing = watcher({
      submit: () => Promise.reject(new BuildfleetError('bus-unavailable', 'the broker is down')),
    });
    const failed = await failing.poll();
    assert.equal(failed.status, 'failed');
    assert.equal(failed.status === 'failed' ? failed.error.code : '', 'bus-unavailable');
    assert.equal(cursors.entries.get('branch:main'), before);
    assert.deepEqual(projects(await watcher().poll()), [DEB]);
    const head = await origin.git('rev-parse', 'HEAD');
    assert.deepEqual(
      submitted
        .splice(0)
        .flat()
        .map((submit) => submit.submitId),
      [`change:${DEB}@${head}`],
    );
  });

  it('reports an unreachable repo as a failed poll and keeps running', async () => {
    const port = await freePort();
    const unreachable = watcher({ url: `git://127.0.0.1:${port}/nothing`, cursors: memoryCursors() });
    const outcome = await unreachable.poll();
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' ? outcome.error.code : '', 'source-unavailable');
    unreachable.start();
    unreachable.poke();
    await unreachable.stop();
    assert.equal((await unreachable.poll()).status, 'stopped');
  });

  it('stops when its signal is aborted, ending a running poll', async () => {
    const controller = new AbortController();
    await origin.commitFiles({ 'docs/abort.md': 'x\n' });
    const aborted = watcher({ signal: controller.signal });
    aborted.start();
    const poll = aborted.poll();
    controller.abort(new Error('shutting down'));
    assert.equal((await poll).status, 'stopped');
    assert.equal((await aborted.poll()).status, 'stopped');
    await aborted.stop();
    // Nothing was submitted or moved: the next watcher processes the commit.
    assert.deepEqual(projects(await watcher().poll()), []);
    assert.equal(cursors.entries.get('branch:main'), await origin.git('rev-parse', 'HEAD'));
  });

  it('coalesces polls: one runs, one waits, later calls share the waiting one', async () => {
    const scan = watcher();
    const first = scan.poll();
    const second = scan.poll();
    const third = scan.poll();
    assert.notEqual(first, second);
    assert.equal(second, third);
    assert.equal((await first).status, 'unchanged');
    assert.equal((await second).status, 'unchanged');
  });

  describe('push webhook', () => {
    let server: HttpServer;
    let hookUrl: string;
    let live: SourceWatcher;
    const pushes: string[] = [];

    before(async () => {
      live = watcher();
      live.start();
      const handler = createGitWebhookHandler({
        secret: SECRET,
        branch: 'main',
        logger,
        onPush: (push) => {
          pushes.push(push.provider);
          live.poke();
        },
      });
      // As scheduler/main.ts serves it: the one webhook route on a listener of its own.
      server = await createHttpServer({ name: 'webhook-test', port: 0, routes: [webhookRoute(() => handler)], logger });
      hookUrl = `${server.url}/hooks/git`;
    });
    after(async () => {
      await live.stop();
      await server.close();
    });

    async function deliver(delivery: Delivery): Promise<{ status: number; body: Record<string, unknown> }> {
      const response = await fetch(hookUrl, { method: 'POST', headers: delivery.headers, body: delivery.body });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    /** Commits a change to hello-deb, delivers the push, and waits for the watcher to submit that commit. */
    async function pushAndExpectSubmit(make: (after: string) => Delivery, file: string): Promise<void> {
      const head = await origin.commitFiles({ [`${DEB}/${file}`]: `${file}\n` });
      const answer = await deliver(make(head));
      assert.deepEqual(answer, { status: 202, body: { status: 'accepted', commit: head } });
      await waitFor(
        () => submitted.flat().some((submit) => submit.submitId === `change:${DEB}@${head}`),
        `a submit of ${DEB} at ${head} (the interval is 10 minutes: only the webhook can cause it)`,
        20_000,
      );
      submitted.splice(0);
    }

    it('polls at once for a GitHub-signed push', async () => {
      await pushAndExpectSubmit((after) => sign(githubPush({ ref: 'refs/heads/main', after }), SECRET), 'github');
    });

    it('polls at once for a GitLab push with the token', async () => {
      await pushAndExpectSubmit((after) => sign(gitlabPush({ ref: 'refs/heads/main', after }), SECRET), 'gitlab');
    });

    it('polls at once for a Gitea-signed push', async () => {
      await pushAndExpectSubmit((after) => sign(giteaPush({ ref: 'refs/heads/main', after }), SECRET), 'gitea');
      assert.deepEqual(pushes, ['github', 'gitlab', 'gitea']);
    });

    it('refuses bad signatures with 401 and pokes nothing', async () => {
      const head = await origin.git('rev-parse', 'HEAD');
      for (const delivery of [
        sign(githubPush({ ref: 'refs/heads/main', after: head }), 'wrong secret'),
        sign(gitlabPush({ ref: 'refs/heads/main', after: head }), 'wrong secret'),
        githubPush({ ref: 'refs/heads/main', after: head }),
      ]) {
        const answer = await deliver(delivery);
        assert.equal(answer.status, 401);
        assert.equal((answer.body['error'] as { code: string }).code, 'webhook-signature-invalid');
      }
      assert.equal(pushes.length, 3);
    });

    it('answers a ping, other branches, bad JSON, other paths and methods', async () => {
      const head = await origin.git('rev-parse', 'HEAD');
      assert.deepEqual(await deliver(sign(githubPing(), SECRET)), { status: 200, body: { status: 'pong' } });
      const other = await deliver(sign(githubPush({ ref: 'refs/heads/feature', after: head }), SECRET));
      assert.equal(other.status, 200);
      assert.equal(other.body['status'], 'ignored');
      const badJson = await deliver(
        sign({ headers: { 'x-github-event': 'push', 'x-github-delivery': randomUUID() }, body: '{"ref":' }, SECRET),
      );
      assert.equal(badJson.status, 400);
      assert.equal((badJson.body['error'] as { code: string }).code, 'request-invalid');
      assert.equal((await fetch(hookUrl.replace('/hooks/git', '/hooks/other'), { method: 'POST' })).status, 404);
      const get = await fetch(hookUrl);
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
      assert.equal(pushes.length, 3);
    });

    it('acts on a delivery once: a repeat, or its body under a new id, is a duplicate; no id is refused', async () => {
      const head = await origin.commitFiles({ [`${DEB}/replay`]: 'replay\n' });
      const delivery = sign(githubPush({ ref: 'refs/heads/main', after: head }), SECRET);
      assert.deepEqual(await deliver(delivery), { status: 202, body: { status: 'accepted', commit: head } });
      const id = delivery.headers['x-github-delivery'];
      assert.deepEqual(await deliver(delivery), { status: 200, body: { status: 'duplicate', delivery: id } });
      const renamed = { ...delivery, headers: { ...delivery.headers, 'x-github-delivery': randomUUID() } };
      const again = await deliver(renamed);
      assert.deepEqual([again.status, again.body['status']], [200, 'duplicate']);
      const { ['x-github-delivery']: _dropped, ...withoutId } = delivery.headers;
      const anonymous = await deliver({ ...delivery, headers: withoutId });
      assert.equal(anonymous.status, 400);
      assert.equal((anonymous.body['error'] as { code: string }).code, 'request-invalid');
      assert.match((anonymous.body['error'] as { message: string }).message, /no delivery id.*x-github-delivery/);
      assert.deepEqual(pushes, ['github', 'gitlab', 'gitea', 'github'], 'only the first delivery poked the watcher');
      await waitFor(
        () => submitted.flat().some((submit) => submit.submitId === `change:${DEB}@${head}`),
        `the submit of ${head}`,
        20_000,
      );
      submitted.splice(0);
    });

    it('refuses a body over the limit with 413', async () => {
      const big = sign({ headers: { 'x-github-event': 'push' }, body: 'x'.repeat(5 * 1024 * 1024 + 1) }, SECRET);
      const answer = await deliver(big);
      assert.equal(answer.status, 413);
    });
  });
});
