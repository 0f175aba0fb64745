/** build.submit (on `<prefix>.submit`, key: project path): a request to build a package. */
import { Type, type Static } from '@sinclair/typebox';
import { IsoDateTime, NonEmptyString, TargetSchema, literalUnion, messageHead } from './common.ts';
import { stamped, type MessageFields } from './envelope.ts';

export const BuildSubmitVersion = 1;

export const SubmitReasons = ['manual', 'source-change', 'dependency', 'retry'] as const;
export type SubmitReason = (typeof SubmitReasons)[number];

/**
 * What a submission builds (issue 12): `package` (default) the package at `project`; `rebuild`
 * the package again as a rebuild (a higher rebuild number, apt and dnf upgrade to it);
 * `dependants` the package and every package of its dists that builds against it, directly or
 * not, as rebuilds, in dependency order; `all` every package under the directory `project`
 * (`projects`: the whole sources repo), in dependency order, as rebuilds where built before.
 */
export const SubmitScopes = ['package', 'rebuild', 'dependants', 'all'] as const;
export type SubmitScope = (typeof SubmitScopes)[number];

export const BuildSubmitSchema = Type.Object(
  {
    ...messageHead(BuildSubmitVersion, 'build.submit'),
    submitId: NonEmptyString('idempotency key: the same submitId twice is one submission'),
    project: NonEmptyString('package directory in the sources repo, e.g. projects/demo/hello-deb'),
    targets: Type.Optional(
      Type.Array(TargetSchema, {
        minItems: 1,
        description: 'targets to build; default: every target the package declares',
      }),
    ),
    ref: Type.Optional(NonEmptyString('branch, tag or commit of the sources repo; default: its default branch')),
    reason: Type.Optional(literalUnion(SubmitReasons, { description: 'why the build was asked for' })),
    requestedBy: Type.Optional(Type.String({ description: 'who or what asked (user, tool, webhook)' })),
    at: Type.Optional(IsoDateTime('when the submission was made')),
    batch: Type.Optional(
      Type.Array(NonEmptyString('package directory'), {
        maxItems: 100_000,
        description:
          'every project submitted together with this one at the same ref (a commit, build --all): ' +
          'a dependency among them is built and published first, even when its submission arrives later',
      }),
    ),
    scope: Type.Optional(
      literalUnion(SubmitScopes, { description: 'what is built: see SubmitScopes; default package' }),
    ),
    dist: Type.Optional(NonEmptyString('with scope dependants or all: only targets of this dist')),
    ignoreDeps: Type.Optional(
      Type.Boolean({
        description: 'build against what is published now, without waiting for dependencies (breaks cycles)',
      }),
    ),
  },
  { description: 'A request to build a package of the sources repo, for all or some of its targets.' },
);
export type BuildSubmit = Static<typeof BuildSubmitSchema>;

/** A build.submit: `v` and `type` filled, `at` now unless given; optional fields given as undefined are left out. */
export function buildSubmit(fields: MessageFields<BuildSubmit>): BuildSubmit {
  return { v: BuildSubmitVersion, type: 'build.submit', ...stamped(fields) };
}

/** The field of a submission that its scope does not allow (`dist` is for scopes `dependants` and `all`), or undefined. */
export function submitScopeProblem(submit: Pick<BuildSubmit, 'scope' | 'dist'>): string | undefined {
  if (submit.dist !== undefined && submit.scope !== 'dependants' && submit.scope !== 'all') {
    return `field "dist" goes with scope dependants or all (scope is ${submit.scope ?? 'package'})`;
  }
  return undefined;
}
