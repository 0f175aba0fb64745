/** One build job as the runner runs it, from a working tree, with no bus: what the buildroot tests build with. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Buildroot } from '../../runner/buildroot/index.ts';
import { builderFor } from '../../runner/builders/index.ts';
import { runBuildJob } from '../../runner/job/build-job.ts';
import type { JobOutcome } from '../../runner/job/outcome.ts';
import { workingTreeSource } from '../../runner/local-source.ts';
import { buildKeyOf, type BuildRequest } from '../../shared/messages/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { uniqueName } from './names.ts';

/**
 * Builds `project` for `dist` (x86_64) from the working tree at `sourcesDir` in `buildroot`
 * (build dirs in `<dir>/work`, phases and log lines dropped) and returns the outcome with the
 * stored log ('' when none).
 */
export async function workingTreeBuild(options: {
  project: string;
  dist: string;
  kind: BuildRequest['kind'];
  sourcesDir: string;
  store: ArtifactStore;
  buildroot: Buildroot;
  dir: string;
  logger: Logger;
  rebuild?: BuildRequest['rebuild'];
}): Promise<{ outcome: JobOutcome; log: string }> {
  const target = { dist: options.dist, arch: 'x86_64' };
  const request: BuildRequest = {
    v: 1,
    type: 'build.request',
    buildId: uniqueName('b'),
    attempt: 1,
    buildKey: buildKeyOf(options.project, target),
    project: options.project,
    kind: options.kind,
    target,
    runnerGroup: 'default',
    source: { url: options.sourcesDir, commit: '0'.repeat(40) },
    submitId: 'test',
    leaseMs: 60_000,
    ...(options.rebuild ? { rebuild: options.rebuild } : {}),
  };
  const { store } = options;
  const outcome = await runBuildJob(
    request,
    {
      sources: workingTreeSource(options.sourcesDir),
      store,
      buildroot: options.buildroot,
      builderFor,
      workDir: join(options.dir, 'work'),
      limits: { memoryMb: 2048, pids: 4096, timeoutMinutes: 20 },
      logger: options.logger,
      publishPhase: async () => undefined,
      sendLog: async () => undefined,
    },
    new AbortController().signal,
    () => undefined,
  );
  const log = outcome.logKey === undefined ? '' : (await store.get(outcome.logKey)).toString('utf8');
  return { outcome, log };
}
