/** build.request (on `<prefix>.requests.<runnerGroup>.<arch>`, key: build key): one build for a runner. */
import { Type, type Static } from '@sinclair/typebox';
import {
  Attempt,
  CommitId,
  IsoDateTime,
  NonEmptyString,
  RebuildSchema,
  ShortId,
  SubmitId,
  TargetSchema,
  literalUnion,
  messageHead,
  BuildKeyFields,
} from './common.ts';
import { stamped, type MessageFields } from './envelope.ts';

export const BuildRequestVersion = 1;

/** `noop` is for benchmarks and tests: it waits and writes a tiny file (docs/sources.md). */
export const BuildKinds = ['rpm', 'deb', 'kiwi', 'docker', 'noop'] as const;
export type BuildKind = (typeof BuildKinds)[number];

export const BuildSourceSchema = Type.Object({
  url: NonEmptyString('URL (or path) of the sources repository'),
  commit: CommitId('the full commit id to build: the runner builds exactly this commit'),
});
export type BuildSource = Static<typeof BuildSourceSchema>;

export const BuildRequestSchema = Type.Object(
  {
    ...messageHead(BuildRequestVersion, 'build.request'),
    buildId: ShortId('build id (a UUID when made by the scheduler)'),
    attempt: Attempt(),
    ...BuildKeyFields,
    kind: literalUnion(BuildKinds, { description: 'which builder builds it' }),
    target: TargetSchema,
    runnerGroup: NonEmptyString('runner group that builds it'),
    source: BuildSourceSchema,
    submitId: SubmitId('the submission this build came from'),
    leaseMs: Type.Integer({ minimum: 1, description: 'lease length in ms; heartbeats must come more often' }),
    at: Type.Optional(IsoDateTime('when the scheduler dispatched this attempt')),
    rebuild: Type.Optional(RebuildSchema),
  },
  { description: 'One attempt of one build, for the runners of one group and arch.' },
);
export type BuildRequest = Static<typeof BuildRequestSchema>;

/** A build.request: `v` and `type` filled, `at` now unless given; optional fields given as undefined are left out. */
export function buildRequest(fields: MessageFields<BuildRequest>): BuildRequest {
  return { v: BuildRequestVersion, type: 'build.request', ...stamped(fields) };
}
