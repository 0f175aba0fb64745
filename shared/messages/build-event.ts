/** build.event (on `<prefix>.events`, key: repo key): a build changed state, or renewed its lease. */
import { Type, type Static } from '@sinclair/typebox';
import {
  ArtifactSchema,
  BuiltAgainstSchema,
  RebuildSchema,
  CommitId,
  DurationsSchema,
  ErrorInfoSchema,
  IsoDateTime,
  MessageSourceSchema,
  KeyString,
  NonEmptyString,
  PublishedRepoSchema,
  ShortId,
  SubmitId,
  TargetSchema,
  messageHead,
  BuildAttemptFields,
  BuildKeyFields,
} from './common.ts';
import { BuildStateSchema } from './build-states.ts';
import { stamped, type MessageFields } from './envelope.ts';

export * from './build-states.ts';

export const BuildEventVersion = 1;

export const BuildEventSchema = Type.Object(
  {
    ...messageHead(BuildEventVersion, 'build.event'),
    ...BuildAttemptFields,
    ...BuildKeyFields,
    target: TargetSchema,
    repoKey: KeyString('<parent dir of the package>/<dist>'),
    state: BuildStateSchema,
    at: IsoDateTime('when it happened'),
    source: MessageSourceSchema,
    // Per state (see docs/messages.md); optional in the schema so one shape serves every state.
    runnerId: Type.Optional(NonEmptyString('runner that holds the build (claimed and later)')),
    submitId: Type.Optional(SubmitId('the submission this build came from')),
    commit: Type.Optional(CommitId('the commit being built')),
    leaseMs: Type.Optional(
      Type.Integer({ minimum: 1, description: 'claimed/heartbeat: the lease runs out leaseMs after `at`' }),
    ),
    artifacts: Type.Optional(Type.Array(ArtifactSchema, { description: 'succeeded: what was built and uploaded' })),
    logKey: Type.Optional(NonEmptyString('artifact-store key of the full build log')),
    durations: Type.Optional(DurationsSchema),
    error: Type.Optional(ErrorInfoSchema),
    reason: Type.Optional(
      Type.String({
        description: 'why the build is in this state, for people: e.g. waiting: "no runner for default.x86_64"',
      }),
    ),
    repo: Type.Optional(PublishedRepoSchema),
    builtAgainst: Type.Optional(
      Type.Array(BuiltAgainstSchema, {
        description: 'succeeded: our own packages (of the published repositories) the buildroot had',
      }),
    ),
    rebuild: Type.Optional(RebuildSchema),
    waitingFor: Type.Optional(
      Type.Array(ShortId('build id'), {
        description: 'waiting: the builds of dependencies that must be published first',
      }),
    ),
  },
  { description: 'A build changed state (or, with state heartbeat, renewed its lease).' },
);
export type BuildEvent = Static<typeof BuildEventSchema>;

/** The fields that say which build (and attempt) an event is about. */
export type BuildIdentity = Pick<BuildEvent, 'buildId' | 'attempt' | 'buildKey' | 'project' | 'target' | 'repoKey'>;

/** Just the identity fields of a build, event or tracked build (which carry more). */
export function identityOf(build: BuildIdentity): BuildIdentity {
  const { buildId, attempt, buildKey, project, target, repoKey } = build;
  return { buildId, attempt, buildKey, project, target, repoKey };
}

/** A build.event: `v` and `type` filled, `at` now unless given; optional fields given as undefined are left out. */
export function buildEvent(fields: MessageFields<BuildEvent>): BuildEvent {
  return { v: BuildEventVersion, type: 'build.event', ...stamped(fields) };
}
