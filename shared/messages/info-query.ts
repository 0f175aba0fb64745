/**
 * info.query (on `<prefix>.info.requests`, key: query id): a question to the info service.
 * The question is one of three shapes, told apart by which field is present (checked in
 * this order when several are): `buildId` (that build), `project` (the latest build of each
 * target of the project, or of `target`), `list` (builds matching a filter, newest first).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { BuildStateSchema } from './build-states.ts';
import { InputLimits, IsoDateTime, KeyString, ProjectPath, ShortId, TargetSchema, messageHead } from './common.ts';

/** A filter value: non-empty and no longer than what it is compared with. */
const Filter = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, description });

export const InfoQueryVersion = 1;

/** Default and upper bound of `list.limit`, applied by the info service. */
export const InfoQueryListLimit = { default: 100, max: 1000 } as const;

export const InfoQueryListFilterSchema = Type.Object({
  projectPrefix: Type.Optional(
    Filter(InputLimits.projectChars, 'only projects whose path starts with this, e.g. projects/demo/'),
  ),
  project: Type.Optional(Filter(InputLimits.projectChars, 'only this project (exact package directory)')),
  submitId: Type.Optional(Filter(InputLimits.submitIdChars, 'only builds of this submission')),
  states: Type.Optional(Type.Array(BuildStateSchema, { description: 'only builds in one of these states' })),
  dist: Type.Optional(Filter(InputLimits.nameChars, 'only this dist')),
  arch: Type.Optional(Filter(InputLimits.nameChars, 'only this arch')),
  since: Type.Optional(IsoDateTime('only builds updated at or after this time')),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: InfoQueryListLimit.max, description: 'at most this many; default 100' }),
  ),
});
export type InfoQueryListFilter = Static<typeof InfoQueryListFilterSchema>;

function queryShape<P extends TProperties>(description: string, question: P) {
  return Type.Object(
    {
      ...messageHead(InfoQueryVersion, 'info.query'),
      queryId: ShortId('id of this query; the answer carries it back'),
      replyTo: KeyString('client id: the answer is published with this key'),
      at: Type.Optional(IsoDateTime('when the query was sent')),
      ...question,
    },
    { description },
  );
}

export const InfoQueryByBuildSchema = queryShape('The record of one build.', {
  buildId: ShortId('build id'),
});
export const InfoQueryByProjectSchema = queryShape('The latest build of each target of a project.', {
  project: ProjectPath('package directory in the sources repo'),
  target: Type.Optional(TargetSchema),
});
export const InfoQueryListSchema = queryShape('Builds matching a filter, most recently updated first.', {
  list: InfoQueryListFilterSchema,
});

export const InfoQuerySchema = Type.Union([InfoQueryByBuildSchema, InfoQueryByProjectSchema, InfoQueryListSchema], {
  description: 'A question to the info service: by buildId, by project (and target), or a list filter.',
});
export type InfoQuery = Static<typeof InfoQuerySchema>;
export type InfoQueryByBuild = Static<typeof InfoQueryByBuildSchema>;
export type InfoQueryByProject = Static<typeof InfoQueryByProjectSchema>;
export type InfoQueryList = Static<typeof InfoQueryListSchema>;
