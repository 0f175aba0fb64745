/**
 * Dependency order on real Kafka with real runners and a collector (issue 11): noop packages that
 * declare what they provide and need. A dependant is dispatched only after its dependency is
 * published, whatever order the submissions arrive in; a diamond's top is built once, after both
 * middles; a failed dependency fails its dependants without running them; a cycle fails every
 * member with the cycle and `ignoreDeps` bootstraps it; a commit touching several packages is
 * ordered by the watcher's batches; a scheduler restarted while a build waits keeps the order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuildEvent } from '../../shared/messages/index.ts';
import { noopPackage } from '../harness/noop-cluster.ts';
import { firstImportSubmitted, oneBuildOf, useNoopCluster } from '../harness/noop-cluster-hooks.ts';
import { useKafka } from '../harness/kafka.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();

const noop = noopPackage;

describe('dependency order (real Kafka, runners, collector)', { timeout: 600_000 }, () => {
  const cluster = useNoopCluster(
    {
      brokers,
      pollIntervalMs: 300,
      files: {
        'projects/g/lib/buildfleet.yml': noop({ ms: 1500, provides: ['libg-dev'] }),
        'projects/g/app/buildfleet.yml': noop({ needs: ['libg-dev'] }),
        'projects/d/base/buildfleet.yml': noop({ ms: 300, provides: ['base'] }),
        'projects/d/left/buildfleet.yml': noop({ ms: 300, provides: ['left'], needs: ['base'] }),
        'projects/d/right/buildfleet.yml': noop({ ms: 1200, provides: ['right'], needs: ['base'] }),
        'projects/d/top/buildfleet.yml': noop({ needs: ['left', 'right'] }),
        'projects/f/lib/buildfleet.yml': noop({ provides: ['libf'], fail: 'does not compile' }),
        'projects/f/app/buildfleet.yml': noop({ needs: ['libf'] }),
        'projects/c/a/buildfleet.yml': noop({ provides: ['ca'], needs: ['cb'] }),
        'projects/c/b/buildfleet.yml': noop({ provides: ['cb'], needs: ['ca'] }),
        'projects/w/lib/buildfleet.yml': noop({ ms: 800, provides: ['libw'] }),
        'projects/w/app/buildfleet.yml': noop({ needs: ['libw'] }),
        'projects/r/lib/buildfleet.yml': noop({ ms: 4000, provides: ['libr'] }),
        'projects/r/app/buildfleet.yml': noop({ needs: ['libr'] }),
      },
    },
    async () => {
      await cluster.startRunner({ id: 'runner-a', slots: 4 });
      // The first poll submits every package once; let those builds end before the tests start.
      await firstImportSubmitted(cluster, 14);
      await waitFor(
        () => {
          const ids = new Set(cluster.events.filter((e) => e.submitId?.startsWith('change:')).map((e) => e.buildId));
          const ended = new Set(
            cluster.events.filter((e) => ['published', 'failed', 'cancelled'].includes(e.state)).map((e) => e.buildId),
          );
          return [...ids].every((id) => ended.has(id));
        },
        'the first import to end',
        180_000,
      );
    },
  );

  /**
   * A new commit with main's tree, on a side branch (the watcher follows main only): builds of it
   * are new builds, not the first import's builds of the same commit, which a batch dependency
   * already built from that commit would count as.
   */
  let fresh = 0;
  async function freshRef(): Promise<string> {
    fresh += 1;
    const head = (await cluster.sources.git('rev-parse', 'main')).trim();
    const commit = (
      await cluster.sources.git('commit-tree', `${head}^{tree}`, '-p', head, '-m', `same tree ${fresh}`)
    ).trim();
    await cluster.sources.git('update-ref', `refs/heads/side-${fresh}`, commit);
    return commit;
  }

  /** Index of the first event of the build in the state, in the order the test saw them. */
  const indexOf = (buildId: string, state: string): number =>
    cluster.events.findIndex((e) => e.buildId === buildId && e.state === state);
  const count = (buildId: string, state: string): number =>
    cluster.events.filter((e) => e.buildId === buildId && e.state === state).length;
  const oneBuild = (submitId: string): Promise<string> => oneBuildOf(cluster, submitId, `the build of ${submitId}`);

  it('the first import built every package in order: app after lib was published', () => {
    const first = (project: string): string => {
      const event = cluster.events.find((e) => e.project === project && e.submitId?.startsWith('change:'));
      assert.ok(event, `${project} was submitted by the watcher`);
      return event.buildId;
    };
    const lib = first('projects/g/lib');
    const app = first('projects/g/app');
    assert.ok(indexOf(lib, 'published') >= 0, 'lib published');
    assert.ok(indexOf(app, 'claimed') > indexOf(lib, 'published'), 'app claimed only after lib was published');
    const top = first('projects/d/top');
    assert.ok(indexOf(top, 'claimed') > indexOf(first('projects/d/right'), 'published'));
    assert.ok(indexOf(top, 'claimed') > indexOf(first('projects/d/left'), 'published'));
    assert.equal(count(top, 'claimed'), 1);
    const cycleA = cluster.events.find((e) => e.buildId === first('projects/c/a') && e.state === 'failed');
    assert.equal(cycleA?.error?.code, 'dependency-cycle');
    const failedApp = cluster.events.find((e) => e.buildId === first('projects/f/app') && e.state === 'failed');
    assert.equal(failedApp?.error?.code, 'dependency-failed');
  });

  it('a dependant submitted before its dependency (one batch) waits, then builds after the dependency is published', async () => {
    const ref = await freshRef();
    const batch = ['projects/g/lib', 'projects/g/app'];
    const app = await cluster.submit('projects/g/app', { batch, ref });
    const appId = await oneBuild(app.submitId);
    const waiting = await cluster.reached(appId, ['waiting']);
    assert.equal(waiting.reason, 'dependency projects/g/lib (not submitted yet)');
    const lib = await cluster.submit('projects/g/lib', { batch, ref });
    const libId = await oneBuild(lib.submitId);
    await waitFor(
      () =>
        cluster.events.some((e) => e.buildId === appId && e.reason === `dependency projects/g/lib (build ${libId})`),
      'the wait to name the build',
    );
    const appEnd = await cluster.reached(appId, ['published', 'failed'], 60_000);
    assert.equal(appEnd.state, 'published', JSON.stringify(appEnd.error));
    assert.ok(indexOf(appId, 'claimed') > indexOf(libId, 'published'), 'app claimed after lib published');
    assert.equal(count(appId, 'claimed'), 1, 'built once');
  });

  it('a diamond: the top is built exactly once, after both middle packages are published', async () => {
    const ref = await freshRef();
    const batch = ['projects/d/base', 'projects/d/left', 'projects/d/right', 'projects/d/top'];
    const ids: Record<string, string> = {};
    for (const project of [...batch].reverse()) {
      const s = await cluster.submit(project, { batch, ref });
      ids[project] = await oneBuild(s.submitId);
    }
    const top = ids['projects/d/top'] ?? '';
    const end = await cluster.reached(top, ['published', 'failed'], 60_000);
    assert.equal(end.state, 'published', JSON.stringify(end.error));
    assert.equal(count(top, 'claimed'), 1);
    for (const middle of ['projects/d/left', 'projects/d/right']) {
      assert.ok(indexOf(top, 'claimed') > indexOf(ids[middle] ?? '', 'published'), `top after ${middle}`);
    }
    assert.ok(indexOf(ids['projects/d/left'] ?? '', 'claimed') > indexOf(ids['projects/d/base'] ?? '', 'published'));
  });

  it('a failed dependency fails its dependant with dependency-failed, without running it', async () => {
    const ref = await freshRef();
    const batch = ['projects/f/lib', 'projects/f/app'];
    const app = await cluster.submit('projects/f/app', { batch, ref });
    const lib = await cluster.submit('projects/f/lib', { batch, ref });
    const appId = await oneBuild(app.submitId);
    const libId = await oneBuild(lib.submitId);
    const failed = await cluster.reached(appId, ['failed', 'published'], 60_000);
    assert.equal(failed.error?.code, 'dependency-failed');
    assert.match(failed.error?.message ?? '', new RegExp(`dependency projects/f/lib \\(build ${libId}\\) failed`));
    assert.match(failed.error?.message ?? '', /does not compile/);
    assert.equal(count(appId, 'claimed'), 0, 'never ran');
  });

  it('a cycle fails both members with the cycle; --ignore-deps builds one against what is published', async () => {
    const ref = await freshRef();
    const batch = ['projects/c/a', 'projects/c/b'];
    const a = await cluster.submit('projects/c/a', { batch, ref });
    const b = await cluster.submit('projects/c/b', { batch, ref });
    for (const s of [a, b]) {
      const failed = await cluster.reached(await oneBuild(s.submitId), ['failed', 'published'], 60_000);
      assert.equal(failed.error?.code, 'dependency-cycle');
      assert.match(failed.error?.message ?? '', /projects\/c\/(a|b) -> projects\/c\/(b|a) -> projects\/c\/\1/);
    }
    const bootstrap = await cluster.submit('projects/c/a', { ignoreDeps: true, ref });
    const end = await cluster.reached(await oneBuild(bootstrap.submitId), ['published', 'failed'], 60_000);
    assert.equal(end.state, 'published');
  });

  it('a commit changing a library and its user: the watcher submits both and the user builds after the library', async () => {
    await cluster.sources.write({
      'projects/w/lib/buildfleet.yml': `${noop({ ms: 800, provides: ['libw'] })}# 1.1\n`,
      'projects/w/app/buildfleet.yml': `${noop({ needs: ['libw'] })}# uses 1.1\n`,
    });
    const head = await cluster.sources.commit('libw 1.1 and its user');
    const find = (project: string): BuildEvent | undefined =>
      cluster.events.find((e) => e.project === project && e.submitId === `change:${project}@${head}`);
    await waitFor(
      () => Boolean(find('projects/w/lib') && find('projects/w/app')),
      'the watcher to submit both',
      60_000,
    );
    const libId = find('projects/w/lib')?.buildId ?? '';
    const appId = find('projects/w/app')?.buildId ?? '';
    const end = await cluster.reached(appId, ['published', 'failed'], 60_000);
    assert.equal(end.state, 'published');
    assert.ok(indexOf(appId, 'claimed') > indexOf(libId, 'published'), 'app claimed after lib published');
  });

  it('a scheduler restarted while a build waits for its dependency keeps the order and builds it once', async () => {
    const ref = await freshRef();
    const batch = ['projects/r/lib', 'projects/r/app'];
    const lib = await cluster.submit('projects/r/lib', { batch, ref });
    const app = await cluster.submit('projects/r/app', { batch, ref });
    const libId = await oneBuild(lib.submitId);
    const appId = await oneBuild(app.submitId);
    await cluster.reached(appId, ['waiting']);
    await cluster.reached(libId, ['building']);
    await cluster.stopScheduler();
    await cluster.startScheduler();
    const end = await cluster.reached(appId, ['published', 'failed'], 90_000);
    assert.equal(end.state, 'published', JSON.stringify(end.error));
    assert.ok(indexOf(appId, 'claimed') > indexOf(libId, 'published'), 'app claimed after lib published');
    assert.equal(count(appId, 'claimed'), 1, 'built once');
    assert.equal(count(libId, 'claimed'), 1, 'lib built once');
  });
});
