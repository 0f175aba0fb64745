/**
 * The records of the scheduler's compacted state topic (`<prefix>.state`, DESIGN.md §2). Only
 * the scheduler reads them; their schema lives here rather than in shared/messages. Keys:
 * `build:<buildId>`, `submit:<submitId>`, `cursor:<name>`, `rebuild:<buildKey>`; the latest value per key wins.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BuildfleetError } from '../../shared/errors/index.ts';
import {
  BuildKinds,
  checkedValue,
  describeProblem,
  literalUnion,
  RebuildSchema,
  TargetSchema,
} from '../../shared/messages/index.ts';
import { BuildOutcomes, SchedulerPhases, type TrackedBuild } from '../core/tracked-build.ts';

const Text = () => Type.String({ minLength: 1 });

const TrackedBuildSchema = Type.Object({
  buildId: Text(),
  buildKey: Text(),
  project: Text(),
  target: TargetSchema,
  repoKey: Text(),
  kind: literalUnion(BuildKinds),
  runnerGroup: Text(),
  sourceUrl: Text(),
  commit: Text(),
  submitId: Text(),
  attempt: Type.Integer({ minimum: 1 }),
  phase: literalUnion(SchedulerPhases),
  dispatched: Type.Boolean(),
  leaseMs: Type.Integer({ minimum: 1 }),
  leaseUntil: Type.Optional(Type.Number()),
  runnerId: Type.Optional(Text()),
  dispatchedAt: Type.Optional(Type.Number()),
  cancelRequested: Type.Optional(Type.Boolean()),
  expiries: Type.Integer({ minimum: 0 }),
  waitFor: Type.Optional(
    Type.Array(
      Type.Object({
        project: Text(),
        buildKey: Text(),
        buildId: Type.Optional(Text()),
        packages: Type.Array(Type.String()),
      }),
    ),
  ),
  outcome: Type.Optional(literalUnion(BuildOutcomes)),
  createdAt: Type.Optional(Type.Number()),
  rebuild: Type.Optional(RebuildSchema),
});

export const StateRecordSchema = Type.Union([
  Type.Object({ v: Type.Literal(1), type: Type.Literal('scheduler.build'), build: TrackedBuildSchema }),
  Type.Object({
    v: Type.Literal(1),
    type: Type.Literal('scheduler.submit'),
    submitId: Text(),
    buildIds: Type.Array(Text()),
  }),
  Type.Object({ v: Type.Literal(1), type: Type.Literal('scheduler.cursor'), name: Text(), commit: Text() }),
  /** The last rebuild number given to a build key (deb +b<N>, rpm .b<N>): the next rebuild gets N + 1. */
  Type.Object({
    v: Type.Literal(1),
    type: Type.Literal('scheduler.rebuild'),
    buildKey: Text(),
    number: Type.Integer({ minimum: 1 }),
  }),
]);
export type StateRecord = Static<typeof StateRecordSchema>;

export function decodeStateRecord(value: unknown): StateRecord {
  return checkedValue(
    StateRecordSchema,
    value,
    (problem) => new BuildfleetError('message-invalid', `scheduler state record: ${describeProblem(problem)}`),
  );
}

export const stateKey = {
  build: (buildId: string) => `build:${buildId}`,
  submit: (submitId: string) => `submit:${submitId}`,
  cursor: (name: string) => `cursor:${name}`,
  rebuild: (buildKey: string) => `rebuild:${buildKey}`,
};

export function buildRecord(build: TrackedBuild): StateRecord {
  return { v: 1, type: 'scheduler.build', build: { ...build } };
}
