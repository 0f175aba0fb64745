/** The messages the scheduler writes, built from what it tracks. */
import type { BuildEvent, BuildRequest, BuildState, ErrorInfo, Target } from '../shared/messages/index.ts';
import type { TrackedBuild } from './core/tracked-build.ts';

export function eventOf(
  build: Pick<TrackedBuild, 'buildId' | 'attempt' | 'buildKey' | 'project' | 'target' | 'repoKey' | 'commit'> &
    Partial<Pick<TrackedBuild, 'runnerId' | 'rebuild'>>,
  state: BuildState,
  instance: string,
  extra: { submitId?: string; reason?: string; error?: ErrorInfo; waitingFor?: string[] } = {},
): BuildEvent {
  return {
    v: 1,
    type: 'build.event',
    buildId: build.buildId,
    attempt: build.attempt,
    buildKey: build.buildKey,
    project: build.project,
    target: build.target,
    repoKey: build.repoKey,
    state,
    at: new Date().toISOString(),
    source: { service: 'scheduler', instance },
    ...(build.commit ? { commit: build.commit } : {}),
    ...(build.rebuild ? { rebuild: build.rebuild } : {}),
    ...(extra.submitId !== undefined ? { submitId: extra.submitId } : {}),
    ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
    ...(extra.error !== undefined ? { error: extra.error } : {}),
    ...(extra.waitingFor !== undefined ? { waitingFor: extra.waitingFor } : {}),
  };
}

export function requestOf(build: TrackedBuild): BuildRequest {
  return {
    v: 1,
    type: 'build.request',
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
    ...(build.rebuild ? { rebuild: build.rebuild } : {}),
    at: new Date().toISOString(),
  };
}

/** What a failed submission reports on: the targets it named, else one stand-in target. */
export function targetsOfFailedSubmit(targets: Target[] | undefined): Target[] {
  return targets && targets.length > 0 ? targets : [{ dist: 'unknown', arch: 'unknown' }];
}
