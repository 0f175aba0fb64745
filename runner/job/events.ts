import {
  buildEvent,
  identityOf,
  repoKeyOf,
  type BuildEvent,
  type BuildRequest,
  type BuildState,
} from '../../shared/messages/index.ts';

/** Fields of a build event that depend on the state (all optional in the schema). */
export type EventDetails = Pick<
  BuildEvent,
  'runnerId' | 'leaseMs' | 'artifacts' | 'logKey' | 'durations' | 'error' | 'commit' | 'builtAgainst'
>;

/** Pure: the build.event for `request` entering `state`, as published by runner `runnerId`. */
export function buildEventFor(
  request: BuildRequest,
  state: BuildState,
  runnerId: string,
  details: EventDetails = {},
  now: Date = new Date(),
): BuildEvent {
  return buildEvent({
    ...identityOf({ ...request, repoKey: repoKeyOf(request.project, request.target.dist) }),
    state,
    at: now.toISOString(),
    source: { service: 'runner', instance: runnerId },
    runnerId,
    submitId: request.submitId,
    commit: request.source.commit,
    ...details,
  });
}
