/**
 * The scheduler on real Kafka with real runners (host buildroot, noop packages), a collector
 * and a git sources repo: idempotent submissions, reuse of a running build, supersede by a
 * newer commit, waiting for a runner group with no runner, a restart in the middle of a stream
 * of submissions (nothing lost, nothing doubled). Malformed input: dead-letters.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuildSubmit } from '../../shared/messages/index.ts';
import { submitOne, useNoopCluster } from '../harness/noop-cluster-hooks.ts';
import { useKafka } from '../harness/kafka.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();
const noop = (ms: number, extra = '') =>
  `kind: noop\ntargets: [{ dist: bookworm, arch: x86_64 }]\nnoop: { ms: ${ms} }\n${extra}`;
const STREAM = Array.from({ length: 16 }, (_, i) => `projects/stream/p${String(i).padStart(2, '0')}`);

describe('scheduler (real Kafka, runners, collector, git)', { timeout: 600_000 }, () => {
  const cluster = useNoopCluster(
    {
      brokers,
      files: {
        'projects/n/quick/buildfleet.yml': noop(100),
        'projects/n/slow/buildfleet.yml': noop(600_000),
        'projects/n/arm/buildfleet.yml':
          'kind: noop\ntargets: [{ dist: bookworm, arch: aarch64, runnerGroup: arm }]\nnoop: { ms: 50 }\n',
        'projects/n/broken/buildfleet.yml': 'kind: noop\ntargets: [{ dist: bookworm, arch: x86_64, colour: red }]\n',
        ...Object.fromEntries(STREAM.map((p) => [`${p}/buildfleet.yml`, noop(50)])),
      },
    },
    async () => {
      await cluster.startRunner({ id: 'runner-a', slots: 4 });
    },
  );

  it('the same submitId twice is one build, built and published once', async () => {
    const first = await cluster.submit('projects/n/quick');
    await cluster.bus.publish(cluster.topics.submit, { key: first.project, value: first });
    await waitFor(() => cluster.buildIdsOf(first.submitId).length > 0, 'the build of the submission');
    const [buildId] = cluster.buildIdsOf(first.submitId);
    assert.ok(buildId);
    const published = await cluster.reached(buildId, ['published', 'failed']);
    assert.equal(published.state, 'published', JSON.stringify(published.error));
    // A later submission is handled after the duplicate: by then the duplicate has had its chance.
    const later = await cluster.submit('projects/stream/p00', { targets: [{ dist: 'bookworm', arch: 'x86_64' }] });
    await waitFor(() => cluster.buildIdsOf(later.submitId).length > 0, 'the later submission');
    assert.deepEqual(cluster.buildIdsOf(first.submitId), [buildId], 'one build for the submitId');
    const states = (state: string) => cluster.events.filter((e) => e.buildId === buildId && e.state === state).length;
    assert.equal(states('claimed'), 1, 'claimed once');
    assert.equal(states('succeeded'), 1, 'built once');
    assert.equal(states('published'), 1, 'published once');
  });

  it('reuses a running build of the same key and commit, and a newer commit supersedes it', async () => {
    const { id: slowId } = await submitOne(cluster, 'projects/n/slow', 'the slow build');
    await cluster.reached(slowId, ['building']);
    const b = await cluster.submit('projects/n/slow');
    await waitFor(() => cluster.buildIdsOf(b.submitId).length === 1, 'an answer to the second submission');
    assert.deepEqual(cluster.buildIdsOf(b.submitId), [slowId], 'the running build is reused');

    await cluster.sources.write({ 'projects/n/slow/buildfleet.yml': noop(100, '# faster now\n') });
    const newer = await cluster.sources.commit('faster slow');
    const c = await cluster.submit('projects/n/slow', { ref: newer });
    const superseded = await cluster.reached(slowId, ['superseded']);
    assert.match(superseded.reason ?? '', /superseded by commit/);
    const cancelled = await cluster.reached(slowId, ['cancelled'], 30_000);
    assert.equal(cancelled.source.service, 'runner', 'the runner aborted the running build');
    await waitFor(() => cluster.buildIdsOf(c.submitId).some((id) => id !== slowId), 'the new build');
    const newId = cluster.buildIdsOf(c.submitId).find((id) => id !== slowId);
    assert.ok(newId);
    const end = await cluster.reached(newId, ['published', 'failed']);
    assert.equal(end.state, 'published');
    assert.equal(end.commit ?? cluster.events.find((e) => e.buildId === newId && e.commit)?.commit, newer);
  });

  it('a build for a runner group with no runner waits with the reason, and goes on when a runner joins', async () => {
    const { id } = await submitOne(cluster, 'projects/n/arm', 'the arm build');
    const waiting = await cluster.reached(id, ['waiting']);
    assert.equal(waiting.reason, 'no runner for arm.aarch64');
    await cluster.startRunner({ id: 'runner-arm', group: 'arm', arches: ['aarch64'], slots: 1 });
    await cluster.reached(id, ['queued', 'claimed']);
    const end = await cluster.reached(id, ['published', 'failed']);
    assert.equal(end.state, 'published');
  });

  it('a package with broken metadata fails its build with the file and field named', async () => {
    const { id } = await submitOne(cluster, 'projects/n/broken', 'the failed submission');
    const failed = await cluster.reached(id, ['failed']);
    assert.equal(failed.error?.code, 'metadata-invalid');
    assert.match(failed.error?.message ?? '', /projects\/n\/broken\/buildfleet\.yml/);
    assert.match(failed.error?.message ?? '', /colour/);
  });

  it('a scheduler restarted in the middle of a stream of submissions loses none and duplicates none', async () => {
    const submits: BuildSubmit[] = [];
    for (const project of STREAM) submits.push(await cluster.submit(project));
    // Some are sent twice, as a retrying client would.
    for (const s of submits.slice(0, 5)) await cluster.bus.publish(cluster.topics.submit, { key: s.project, value: s });
    await waitFor(() => submits.filter((s) => cluster.buildIdsOf(s.submitId).length > 0).length >= 3, 'a few handled');
    await cluster.stopScheduler();
    const handledBefore = submits.filter((s) => cluster.buildIdsOf(s.submitId).length > 0).length;
    await cluster.startScheduler();
    await waitFor(
      () => submits.every((s) => cluster.buildIdsOf(s.submitId).length === 1),
      'every submission to have its build',
      120_000,
    );
    const ids = submits.map((s) => cluster.buildIdsOf(s.submitId)[0] ?? '');
    assert.equal(new Set(ids).size, STREAM.length, 'one build per submission');
    for (const id of ids) {
      const end = await cluster.reached(id, ['published', 'failed'], 120_000);
      assert.equal(end.state, 'published', JSON.stringify(end.error));
    }
    for (const id of ids) {
      assert.equal(
        cluster.events.filter((e) => e.buildId === id && e.state === 'succeeded').length,
        1,
        `build ${id} ran once`,
      );
    }
    assert.ok(handledBefore < STREAM.length, `the restart happened mid-stream (${handledBefore} handled before)`);
  });
});
