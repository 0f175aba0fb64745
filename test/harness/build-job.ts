/** One build job as the runner runs it, from a working tree, with no bus: what the buildroot tests build with. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Buildroot } from '../../runner/buildroot/index.ts';
import { builderFor } from '../../runner/builders/index.ts';
import { runBuildJob } from '../../runner/job/build-job.ts';
import type { JobOutcome } from '../../runner/job/outcome.ts';
import { workingTreeSource } from '../../runner/local-source.ts';
import type { BuildRequest } from '../../shared/messages/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { testRequest } from './cluster-fixtures.ts';

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
  const request: BuildRequest = {
    ...testRequest({ ...options, url: options.sourcesDir, commit: '0'.repeat(40) }),
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
