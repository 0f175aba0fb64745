/**
 * What the tests of the noop cluster (noop-cluster.ts) repeat: starting it before the tests of a
 * describe and stopping it after, and waiting for the one build of a submission.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { BuildSubmit } from '../../shared/messages/index.ts';
import { startNoopCluster, type NoopCluster } from './noop-cluster.ts';
import { waitFor } from './wait.ts';

/**
 * Registers hooks of the enclosing describe: the cluster starts (then `setUp` runs) before its
 * tests and stops after them. The returned cluster stands for the started one (an error before).
 */
export function useNoopCluster(
  options: Parameters<typeof startNoopCluster>[0],
  setUp?: (cluster: NoopCluster) => Promise<void>,
): NoopCluster {
  let started: NoopCluster | undefined;
  const current = (): NoopCluster => {
    if (started === undefined) throw new Error('the noop cluster is not started (use it in a test or hook)');
    return started;
  };
  before(async () => {
    started = await startNoopCluster(options);
    await setUp?.(started);
  });
  after(async () => {
    await started?.stop();
  });
  return new Proxy({} as NoopCluster, {
    get: (_, key) => Reflect.get(current(), key) as unknown,
    set: (_, key, value) => Reflect.set(current(), key, value),
  });
}

/** The id of the one build of the submission, waiting for it. */
export async function oneBuildOf(
  cluster: NoopCluster,
  submitId: string,
  what: string,
  timeoutMs?: number,
): Promise<string> {
  await waitFor(() => cluster.buildIdsOf(submitId).length === 1, what, timeoutMs);
  const [id] = cluster.buildIdsOf(submitId);
  assert.ok(id, what);
  return id;
}

/** Submits `project` and waits for the one build of the submission. */
export async function submitOne(
  cluster: NoopCluster,
  project: string,
  what: string,
): Promise<{ submit: BuildSubmit; id: string }> {
  const submit = await cluster.submit(project);
  return { submit, id: await oneBuildOf(cluster, submit.submitId, what) };
}

/** Waits until the sources watcher's first import has submitted `count` builds (`change:` submissions). */
export async function firstImportSubmitted(cluster: NoopCluster, count: number): Promise<void> {
  await waitFor(
    () => cluster.events.filter((e) => e.state === 'submitted' && e.submitId?.startsWith('change:')).length >= count,
    'the first import',
    120_000,
  );
}
