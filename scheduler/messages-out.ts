/** The messages the scheduler writes, built from what it tracks. */
import {
  buildEvent,
  buildRequest,
  identityOf,
  type BuildEvent,
  type BuildRequest,
  type BuildState,
  type ErrorInfo,
  type Target,
} from '../shared/messages/index.ts';
import type { TrackedBuild } from './core/tracked-build.ts';

export function eventOf(
  build: Pick<TrackedBuild, 'buildId' | 'attempt' | 'buildKey' | 'project' | 'target' | 'repoKey' | 'commit'> &
    Partial<Pick<TrackedBuild, 'runnerId' | 'rebuild'>>,
  state: BuildState,
  instance: string,
  extra: { submitId?: string; reason?: string; error?: ErrorInfo; waitingFor?: string[] } = {},
): BuildEvent {
  return buildEvent({
    ...identityOf(build),
    state,
    source: { service: 'scheduler', instance },
    // A submission that could not be resolved has no commit ('').
    commit: build.commit === '' ? undefined : build.commit,
    rebuild: build.rebuild,
    submitId: extra.submitId,
    reason: extra.reason,
    error: extra.error,
    waitingFor: extra.waitingFor,
  });
}

export function requestOf(build: TrackedBuild): BuildRequest {
  return buildRequest({
    buildId: build.buildId,
    attempt: build.attempt,
    buildKey: build.buildKey,
    project: build.project,
    kind: build.kind,
    target: build.target,
    runnerGroup: build.runnerGroup,
    source: { url: build.sourceUrl, commit: build.commit },
    submitId: build.submitId,
    leaseMs: build.leaseMs,
    rebuild: build.rebuild,
  });
}

/** What a failed submission reports on: the targets it named, else one stand-in target. */
export function targetsOfFailedSubmit(targets: Target[] | undefined): Target[] {
  return targets && targets.length > 0 ? targets : [{ dist: 'unknown', arch: 'unknown' }];
}
