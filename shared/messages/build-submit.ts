/** build.submit (on `<prefix>.submit`, key: project path): a request to build a package. */
import { Type, type Static } from '@sinclair/typebox';
import {
  DistName,
  GitRef,
  InputLimits,
  IsoDateTime,
  PlainText,
  ProjectPath,
  SubmitId,
  TargetSchema,
  literalUnion,
  messageHead,
} from './common.ts';
import { stamped, type MessageFields } from './envelope.ts';
import type { SchemaProblem } from './schema-problem.ts';

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
    submitId: SubmitId(
      "idempotency key: the same submitId twice is one submission; `change:` ids are the scheduler's own",
    ),
    project: ProjectPath('package directory in the sources repo, e.g. projects/demo/hello-deb'),
    targets: Type.Optional(
      Type.Array(TargetSchema, {
        minItems: 1,
        maxItems: InputLimits.targets,
        description: 'targets to build; default: every target the package declares',
      }),
    ),
    ref: Type.Optional(GitRef('branch, tag or commit of the sources repo; default: its default branch')),
    reason: Type.Optional(literalUnion(SubmitReasons, { description: 'why the build was asked for' })),
    requestedBy: Type.Optional(PlainText('who or what asked (user, tool, webhook)')),
    at: Type.Optional(IsoDateTime('when the submission was made')),
    batch: Type.Optional(
      Type.Array(ProjectPath('package directory'), {
        maxItems: 100_000,
        description:
          'every project submitted together with this one at the same ref (a commit, build --all): ' +
          'a dependency among them is built and published first, even when its submission arrives later',
      }),
    ),
    scope: Type.Optional(
      literalUnion(SubmitScopes, { description: 'what is built: see SubmitScopes; default package' }),
    ),
    dist: Type.Optional(DistName('with scope dependants or all: only targets of this dist')),
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

/** The submitIds of the scheduler's git watcher and webhook: `change:<project>@<commit>`. */
export const CHANGE_SUBMIT_PREFIX = 'change:';

/**
 * The rules of a submission its schema cannot say (fields that go together), the same on every
 * door: decodeMessage runs them, so the HTTP API answers 400, the CLI refuses, and the
 * scheduler dead-letters a message that breaks them, all with this problem.
 */
export function submitRuleProblem(submit: Pick<BuildSubmit, 'scope' | 'dist'>): SchemaProblem | undefined {
  if (submit.dist !== undefined && submit.scope !== 'dependants' && submit.scope !== 'all') {
    return { field: 'dist', reason: `goes with scope dependants or all (scope is ${submit.scope ?? 'package'})` };
  }
  return undefined;
}

/**
 * What a client (the HTTP API, the CLI) may not send although the bus carries it: a submitId
 * longer than InputLimits.clientSubmitIdChars, or one of the scheduler's own `change:` ids
 * (a client choosing one could make the scheduler take a later change of the package as done).
 */
export function clientSubmitProblem(submit: Pick<BuildSubmit, 'submitId'>): SchemaProblem | undefined {
  if (submit.submitId.length > InputLimits.clientSubmitIdChars) {
    return { field: 'submitId', reason: `must be at most ${InputLimits.clientSubmitIdChars} characters long` };
  }
  if (submit.submitId.startsWith(CHANGE_SUBMIT_PREFIX)) {
    return {
      field: 'submitId',
      reason: `must not start with "${CHANGE_SUBMIT_PREFIX}" (reserved for the changes the scheduler finds in git)`,
    };
  }
  return undefined;
}
