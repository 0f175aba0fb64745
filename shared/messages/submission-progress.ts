/**
 * How far a submission of many builds is (issue 12, mass rebuilds): `312/1000 published, 2
 * failed, 41 waiting on dependencies, 5 building, 640 queued`. One definition for the CLI
 * (`build --wait`, `status <submitId>`) and the info service (`GET /api/submissions/:id`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { hasEnded, isEndState, isLeasedState, type StateWithError } from './build-states.ts';

export const SubmissionProgressSchema = Type.Object({
  submitId: Type.String({ minLength: 1 }),
  total: Type.Integer({ minimum: 0, description: 'builds of the submission' }),
  published: Type.Integer({ minimum: 0, description: 'in their repositories' }),
  succeeded: Type.Integer({ minimum: 0, description: 'built, not published yet' }),
  failed: Type.Integer({ minimum: 0, description: 'ended without a result (failed, cancelled, superseded, ...)' }),
  waitingOnDependencies: Type.Integer({
    minimum: 0,
    description: 'waiting until builds of dependencies are published',
  }),
  building: Type.Integer({ minimum: 0, description: 'held by a runner' }),
  queued: Type.Integer({
    minimum: 0,
    description: 'submitted, queued, waiting for a runner, or failed and about to be dispatched again',
  }),
  text: Type.String({ description: '312/1000 published, 2 failed, 41 waiting on dependencies, ...' }),
});
export type SubmissionProgress = Static<typeof SubmissionProgressSchema>;

/**
 * The progress of a submission from its builds' states (and, for `waiting`, whether it waits for
 * dependencies); an open failure (build-states.ts) counts as queued: it is dispatched again.
 */
export function submissionProgress(
  submitId: string,
  builds: ReadonlyArray<StateWithError & { waitingFor?: readonly string[] | undefined }>,
): SubmissionProgress {
  const counts = { published: 0, succeeded: 0, failed: 0, waitingOnDependencies: 0, building: 0, queued: 0 };
  for (const build of builds) {
    if (build.state === 'published') counts.published += 1;
    else if (build.state === 'succeeded') counts.succeeded += 1;
    else if (isEndState(build.state) && hasEnded(build)) counts.failed += 1;
    else if (build.state === 'waiting' && (build.waitingFor?.length ?? 0) > 0) counts.waitingOnDependencies += 1;
    else if (isLeasedState(build.state)) counts.building += 1;
    else counts.queued += 1;
  }
  const parts = [
    `${counts.published}/${builds.length} published`,
    `${counts.failed} failed`,
    `${counts.waitingOnDependencies} waiting on dependencies`,
    ...(counts.building > 0 ? [`${counts.building} building`] : []),
    ...(counts.succeeded > 0 ? [`${counts.succeeded} to publish`] : []),
    ...(counts.queued > 0 ? [`${counts.queued} queued`] : []),
  ];
  return { submitId, total: builds.length, ...counts, text: parts.join(', ') };
}
