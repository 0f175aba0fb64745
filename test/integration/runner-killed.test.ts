/**
 * A runner process killed with SIGKILL in the middle of a build: its lease runs out, the
 * scheduler dispatches attempt 2, another runner process builds it, and the collector publishes
 * it exactly once. Real Kafka, real `buildfleet runner` processes, real git and collector.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { submitOne, useNoopCluster } from '../harness/noop-cluster-hooks.ts';
import { useKafka } from '../harness/kafka.ts';

const { brokers } = await useKafka();

describe('a runner killed in the middle of a build', { timeout: 300_000 }, () => {
  const cluster = useNoopCluster({
    brokers,
    leaseMs: 4000,
    maxAttempts: 3,
    files: {
      'projects/k/long/buildfleet.yml':
        'kind: noop\ntargets: [{ dist: bookworm, arch: x86_64, runnerGroup: kill }]\nnoop: { ms: 6000 }\n',
    },
  });

  it('is re-dispatched when its lease runs out, built by another runner and published once (attempt 2)', async () => {
    const doomed = await cluster.startRunnerProcess({ id: 'doomed', group: 'kill' });
    const { id } = await submitOne(cluster, 'projects/k/long', 'the build');
    const claimed = await cluster.reached(id, ['claimed']);
    assert.equal(claimed.runnerId, 'doomed');
    assert.equal(claimed.attempt, 1);
    await cluster.reached(id, ['building']);
    doomed.child.kill('SIGKILL');
    assert.equal(await doomed.exited, null, 'killed, not exited');

    await cluster.startRunnerProcess({ id: 'survivor', group: 'kill' });
    const end = await cluster.reached(id, ['published', 'failed'], 120_000);
    assert.equal(end.state, 'published', JSON.stringify(end.error));

    const of = (state: string) => cluster.events.filter((e) => e.buildId === id && e.state === state);
    const second = of('claimed').find((e) => e.attempt === 2);
    assert.ok(second, `attempt 2 was claimed: ${JSON.stringify(of('claimed'))}`);
    assert.equal(second.runnerId, 'survivor');
    assert.deepEqual(
      of('succeeded').map((e) => [e.attempt, e.runnerId]),
      [[2, 'survivor']],
    );
    // The collector's events come a little after; give a duplicate the chance to show.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(of('published').length, 1, 'published exactly once');
    // Re-dispatched as attempt 2: `queued` saying whose lease ran out, or `waiting` when the
    // broker had already dropped the dead runner from the group before the new one joined.
    const redispatch = cluster.events.filter(
      (e) => e.buildId === id && e.attempt === 2 && (e.state === 'queued' || e.state === 'waiting'),
    );
    assert.ok(
      redispatch.some((e) =>
        (e.state === 'queued' ? /lease of runner doomed ran out/ : /no runner/).test(e.reason ?? ''),
      ),
      `the re-dispatch says why: ${JSON.stringify(redispatch)}`,
    );
  });
});
