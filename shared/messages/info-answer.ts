/** info.answer (on `<prefix>.info.responses`, key: the query's replyTo): the info service's answer. */
import { Type, type Static } from '@sinclair/typebox';
import { BuildStateSchema } from './build-states.ts';
import {
  ArtifactSchema,
  Attempt,
  CommitId,
  DurationsSchema,
  ErrorInfoSchema,
  IsoDateTime,
  MessageSourceSchema,
  NonEmptyString,
  PublishedRepoSchema,
  TargetSchema,
  BuiltAgainstSchema,
  RebuildSchema,
  messageHead,
  BuildKeyFields,
} from './common.ts';

export const InfoAnswerVersion = 1;

export const BuildHistoryEntrySchema = Type.Object({
  state: BuildStateSchema,
  at: IsoDateTime('when the build entered this state'),
  attempt: Attempt(),
  runnerId: Type.Optional(NonEmptyString('runner that reported it')),
});
export type BuildHistoryEntry = Static<typeof BuildHistoryEntrySchema>;

/** Everything known about one build, folded from its events. */
export const BuildRecordSchema = Type.Object({
  buildId: NonEmptyString('build id'),
  ...BuildKeyFields,
  target: TargetSchema,
  repoKey: NonEmptyString('<parent dir of the package>/<dist>'),
  state: BuildStateSchema,
  attempt: Attempt(),
  runnerId: Type.Optional(NonEmptyString('runner of the latest attempt')),
  submitId: Type.Optional(NonEmptyString('the submission this build came from')),
  submitIds: Type.Optional(
    Type.Array(NonEmptyString(), {
      description: 'every submission that gave back this build (the same build key and commit), first one first',
    }),
  ),
  commit: Type.Optional(CommitId('the commit built')),
  history: Type.Array(BuildHistoryEntrySchema, { description: 'state changes, oldest first' }),
  artifacts: Type.Array(ArtifactSchema, { description: 'artifacts of the successful attempt; empty until then' }),
  logKey: Type.Optional(NonEmptyString('artifact-store key of the full build log')),
  durations: Type.Optional(DurationsSchema),
  error: Type.Optional(ErrorInfoSchema),
  reason: Type.Optional(Type.String({ description: 'why the build is in its state, for people (from its event)' })),
  repo: Type.Optional(PublishedRepoSchema),
  builtAgainst: Type.Optional(
    Type.Array(BuiltAgainstSchema, { description: 'our own packages the successful attempt was built against' }),
  ),
  rebuild: Type.Optional(RebuildSchema),
  waitingFor: Type.Optional(
    Type.Array(NonEmptyString('build id'), {
      description: 'while waiting for dependencies: the builds that must be published first',
    }),
  ),
  createdAt: IsoDateTime('time of the first event of the build'),
  updatedAt: IsoDateTime('time of the latest event of the build'),
});
export type BuildRecord = Static<typeof BuildRecordSchema>;

export const InfoAnswerSchema = Type.Object(
  {
    ...messageHead(InfoAnswerVersion, 'info.answer'),
    queryId: NonEmptyString('queryId of the query answered'),
    replyTo: NonEmptyString('replyTo of the query answered'),
    at: IsoDateTime('when the answer was made'),
    builds: Type.Array(BuildRecordSchema, { description: 'matching builds; empty when none' }),
    truncated: Type.Optional(Type.Boolean({ description: 'true when more builds matched than were returned' })),
    error: Type.Optional(ErrorInfoSchema),
    source: Type.Optional(MessageSourceSchema),
  },
  { description: 'The answer to one info.query: full build records.' },
);
export type InfoAnswer = Static<typeof InfoAnswerSchema>;
