/**
 * Cascades on real Kafka with real runners and a collector (issue 12): noop packages that declare
 * what they provide and need. A commit changing only a library rebuilds what builds against it,
 * on its own: a diamond's top once, after both middles; a package that opts out is left alone;
 * a dist with `rebuildDependants: direct` stops after one level, one with `none` rebuilds nothing.
 * A scheduler process SIGKILLed in the middle of a cascade: after a restart every dependant is
 * published exactly once, none skipped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuildEvent } from '../../shared/messages/index.ts';
import { cli } from '../harness/cli-process.ts';
import { useKafka } from '../harness/kafka.ts';
import { noopPackage } from '../harness/noop-cluster.ts';
import { firstImportSubmitted, useNoopCluster } from '../harness/noop-cluster-hooks.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();

const noop = noopPackage;

const DIST = 'format: deb\nbase: { image: localhost/none:1 }\n';

describe('cascades of rebuilds (real Kafka, runners, collector)', { timeout: 600_000 }, () => {
  const cluster = useNoopCluster(
    {
      brokers,
      pollIntervalMs: 300,
      infoService: true,
      files: {
        // A diamond under lib, and tool, which opts out.
        'projects/k/lib/buildfleet.yml': noop({ ms: 300, provides: ['libk'] }),
        'projects/k/a/buildfleet.yml': noop({ ms: 300, provides: ['ka'], needs: ['libk'] }),
        'projects/k/b/buildfleet.yml': noop({ ms: 1200, provides: ['kb'], needs: ['libk'] }),
        'projects/k/app/buildfleet.yml': noop({ needs: ['ka', 'kb'] }),
        'projects/k/tool/buildfleet.yml': noop({ needs: ['libk'], optOut: true }),
        // A chain in a dist that rebuilds direct dependants only, and one in a dist that rebuilds none.
        'dists/direct.yml': `${DIST}rebuildDependants: direct\n`,
        'projects/d/x/buildfleet.yml': noop({ provides: ['dx'], dist: 'direct' }),
        'projects/d/y/buildfleet.yml': noop({ provides: ['dy'], needs: ['dx'], dist: 'direct' }),
        'projects/d/z/buildfleet.yml': noop({ needs: ['dy'], dist: 'direct' }),
        'dists/none.yml': `${DIST}rebuildDependants: none\n`,
        'projects/n/x/buildfleet.yml': noop({ provides: ['nx'], dist: 'none' }),
        'projects/n/y/buildfleet.yml': noop({ needs: ['nx'], dist: 'none' }),
        // A chain of five for the scheduler killed mid-cascade.
        'projects/s/root/buildfleet.yml': noop({ provides: ['s0'] }),
        ...Object.fromEntries(
          [1, 2, 3, 4].map((i) => [
            `projects/s/p${i}/buildfleet.yml`,
            noop({ ms: 1500, provides: [`s${i}`], needs: [`s${i - 1}`] }),
          ]),
        ),
      },
    },
    async () => {
      await cluster.startRunner({ id: 'runner-a', slots: 4 });
      await firstImportSubmitted(cluster, 15);
      await waitFor(() => unfinished().length === 0, 'the first import to end', 180_000);
    },
  );

  const ENDS = ['published', 'failed', 'cancelled', 'superseded'];
  function unfinished(): string[] {
    const ids = new Set(cluster.events.filter((e) => e.state === 'submitted').map((e) => e.buildId));
    const ended = new Set(cluster.events.filter((e) => ENDS.includes(e.state)).map((e) => e.buildId));
    return [...ids].filter((id) => !ended.has(id));
  }
  const indexOf = (buildId: string, state: string): number =>
    cluster.events.findIndex((e) => e.buildId === buildId && e.state === state);
  /** The builds of a cascade (by the build it started from), by project. */
  const cascadeOf = (buildId: string): Map<string, BuildEvent> =>
    new Map(
      cluster.events
        .filter((e) => e.state === 'submitted' && e.submitId === `cascade:${buildId}`)
        .map((e) => [e.project, e]),
    );
  /** Changes files in a commit on main (the watcher submits what changed) and returns the build of `project`. */
  async function change(files: Record<string, string>, project: string): Promise<string> {
    await cluster.sources.write(files);
    const head = await cluster.sources.commit(`change ${project}`);
    const submitId = `change:${project}@${head}`;
    await waitFor(() => cluster.buildIdsOf(submitId).length === 1, `the watcher to submit ${project}`, 60_000);
    return cluster.buildIdsOf(submitId)[0] ?? '';
  }

  it('the first import made no rebuilds', () => {
    assert.deepEqual(
      cluster.events.filter((e) => e.rebuild !== undefined),
      [],
    );
  });

  it('a new lib rebuilds its dependants on its own: the top once, after both middles; tool opted out', async () => {
    const libId = await change(
      { 'projects/k/lib/buildfleet.yml': `${noop({ ms: 300, provides: ['libk'] })}# 1.1\n` },
      'projects/k/lib',
    );
    await cluster.reached(libId, ['published'], 60_000);
    await waitFor(() => cascadeOf(libId).size === 3, 'the cascade of a, b and app', 30_000);
    const builds = cascadeOf(libId);
    assert.deepEqual([...builds.keys()].sort(), ['projects/k/a', 'projects/k/app', 'projects/k/b']);
    const [a, b, app] = ['projects/k/a', 'projects/k/b', 'projects/k/app'].map((p) => builds.get(p));
    assert.ok(a && b && app);
    assert.deepEqual(a.rebuild, { number: 1, because: [{ project: 'projects/k/lib', buildId: libId }] });
    assert.deepEqual(app.rebuild?.because.map((x) => x.project).sort(), ['projects/k/a', 'projects/k/b']);
    const end = await cluster.reached(app.buildId, ['published', 'failed'], 60_000);
    assert.equal(end.state, 'published', JSON.stringify(end.error));
    assert.ok(indexOf(app.buildId, 'claimed') > indexOf(b.buildId, 'published'), 'app after b');
    assert.ok(indexOf(app.buildId, 'claimed') > indexOf(a.buildId, 'published'), 'app after a');
    const appRuns = cluster.events.filter((e) => e.project === 'projects/k/app' && e.state === 'claimed');
    assert.equal(appRuns.filter((e) => indexOf(e.buildId, 'claimed') > indexOf(libId, 'published')).length, 1);
    assert.ok(!cluster.events.some((e) => e.project === 'projects/k/tool' && e.rebuild !== undefined));
    // Rebuilds start no cascades of their own.
    await waitFor(() => unfinished().length === 0, 'the cascade to end', 60_000);
    assert.deepEqual(
      cluster.events
        .filter((e) => e.state === 'submitted' && e.submitId?.startsWith('cascade:'))
        .map((e) => e.submitId),
      [`cascade:${libId}`, `cascade:${libId}`, `cascade:${libId}`],
    );
  });

  it('rebuildDependants: direct stops after one level; none rebuilds nothing', async () => {
    const direct = await change(
      { 'projects/d/x/buildfleet.yml': `${noop({ provides: ['dx'], dist: 'direct' })}# 2\n` },
      'projects/d/x',
    );
    const none = await change(
      { 'projects/n/x/buildfleet.yml': `${noop({ provides: ['nx'], dist: 'none' })}# 2\n` },
      'projects/n/x',
    );
    await cluster.reached(direct, ['published'], 60_000);
    await cluster.reached(none, ['published'], 60_000);
    await waitFor(() => cascadeOf(direct).size === 1, 'the rebuild of y', 30_000);
    const y = cascadeOf(direct).get('projects/d/y');
    assert.ok(y);
    await cluster.reached(y.buildId, ['published'], 60_000);
    // y's rebuild is published and starts no cascade: z stays as it was; n/y is never rebuilt.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual([...cascadeOf(direct).keys()], ['projects/d/y']);
    assert.equal(cascadeOf(none).size, 0);
    assert.ok(
      !cluster.events.some((e) => e.rebuild !== undefined && ['projects/d/z', 'projects/n/y'].includes(e.project)),
    );
  });

  it('rebuild --dependants: the package and what builds against it, once each, in order, as rebuilds', async () => {
    const submit = await cluster.submit('projects/k/lib', { scope: 'dependants' });
    await waitFor(() => cluster.buildIdsOf(submit.submitId).length === 4, 'the four builds', 60_000);
    const of = (project: string): BuildEvent => {
      const event = cluster.events.find(
        (e) => e.submitId === submit.submitId && e.state === 'submitted' && e.project === project,
      );
      assert.ok(event, `${project} in the submission`);
      return event;
    };
    const [lib, a, b, app] = ['projects/k/lib', 'projects/k/a', 'projects/k/b', 'projects/k/app'].map(of);
    assert.ok(lib && a && b && app);
    // The earlier cascade gave a, b and app rebuild 1; lib was never rebuilt before.
    assert.equal(lib.rebuild?.number, 1);
    assert.deepEqual(lib.rebuild?.because, []);
    assert.equal(app.rebuild?.number, 2);
    assert.deepEqual(a.rebuild?.because, [{ project: 'projects/k/lib', buildId: lib.buildId }]);
    const end = await cluster.reached(app.buildId, ['published', 'failed'], 60_000);
    assert.equal(end.state, 'published', JSON.stringify(end.error));
    assert.ok(indexOf(a.buildId, 'claimed') > indexOf(lib.buildId, 'published'), 'a after lib');
    assert.ok(indexOf(app.buildId, 'claimed') > indexOf(b.buildId, 'published'), 'app after b');
    assert.ok(!cluster.events.some((e) => e.submitId === submit.submitId && e.project === 'projects/k/tool'));
    // A rebuild starts no cascade: nothing beyond the four.
    await waitFor(() => unfinished().length === 0, 'the rebuild to end', 60_000);
    assert.equal(cascadeOf(lib.buildId).size, 0);
    const answer = await fetch(`${cluster.apiUrl}/api/submissions/${submit.submitId}`);
    assert.equal(answer.status, 200);
    const progress = (await answer.json()) as { text: string; total: number };
    assert.equal(progress.total, 4);
    assert.equal(progress.text, '4/4 published, 0 failed, 0 waiting on dependencies');
  });

  it('build --all --dist direct --wait: every package of the dist in order, with progress, exit 0', async () => {
    const run = await cli(['build', '--all', '--dist', 'direct', '--wait', '--api', cluster.apiUrl]);
    assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^progress: 3\/3 published, 0 failed, 0 waiting on dependencies$/m);
    assert.match(run.stdout, /all 3 build\(s\) reached published/);
    const submitId = /^submitted (\S+)/m.exec(run.stderr)?.[1] ?? '';
    const ids = cluster.buildIdsOf(submitId);
    assert.equal(ids.length, 3);
    const claimed = (project: string): number =>
      cluster.events.findIndex((e) => ids.includes(e.buildId) && e.project === project && e.state === 'claimed');
    const published = (project: string): number =>
      cluster.events.findIndex((e) => ids.includes(e.buildId) && e.project === project && e.state === 'published');
    assert.ok(claimed('projects/d/y') > published('projects/d/x'), 'y after x');
    assert.ok(claimed('projects/d/z') > published('projects/d/y'), 'z after y');
    assert.ok(!cluster.events.some((e) => ids.includes(e.buildId) && !e.project.startsWith('projects/d/')));
    const status = await cli(['status', submitId, '--api', cluster.apiUrl]);
    assert.equal(status.exitCode, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^submission ${submitId}: 3/3 published, 0 failed`, 'm'));
  });

  it('a scheduler SIGKILLed mid-cascade: after a restart every dependant is published exactly once', async () => {
    const scheduler = await cluster.startSchedulerProcess();
    const rootId = await change(
      { 'projects/s/root/buildfleet.yml': `${noop({ provides: ['s0'] })}# 2\n` },
      'projects/s/root',
    );
    await waitFor(() => cascadeOf(rootId).size === 4, 'the cascade of the chain', 60_000);
    const p2 = cascadeOf(rootId).get('projects/s/p2');
    assert.ok(p2);
    // p1 is built and published; p2 is being built: the scheduler dies.
    await cluster.reached(p2.buildId, ['building'], 60_000);
    scheduler.child.kill('SIGKILL');
    await scheduler.exited;
    await cluster.startScheduler();
    const chain = ['projects/s/p1', 'projects/s/p2', 'projects/s/p3', 'projects/s/p4'];
    for (const project of chain) {
      const build = cascadeOf(rootId).get(project);
      assert.ok(build, `${project} in the cascade`);
      const end = await cluster.reached(build.buildId, ['published', 'failed'], 60_000);
      assert.equal(end.state, 'published', `${project}: ${JSON.stringify(end.error)}`);
    }
    await waitFor(() => unfinished().length === 0, 'everything to end', 60_000);
    const published = (project: string): number =>
      new Set(
        cluster.events
          .filter((e) => e.project === project && e.state === 'published')
          .filter((e) => indexOf(e.buildId, 'submitted') > indexOf(rootId, 'submitted'))
          .map((e) => e.buildId),
      ).size;
    for (const project of chain) assert.equal(published(project), 1, `${project} published once`);
    const numbers = chain.map((p) => cascadeOf(rootId).get(p)?.rebuild?.number);
    assert.deepEqual(numbers, [1, 1, 1, 1]);
  });
});
