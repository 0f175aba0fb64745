/**
 * info.query (on `<prefix>.info.requests`, key: query id): a question to the info service.
 * The question is one of three shapes, told apart by which field is present (checked in
 * this order when several are): `buildId` (that build), `project` (the latest build of each
 * target of the project, or of `target`), `list` (builds matching a filter, newest first).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { BuildStateSchema } from './build-states.ts';
import { IsoDateTime, NonEmptyString, TargetSchema, messageHead } from './common.ts';

export const InfoQueryVersion = 1;

/** Default and upper bound of `list.limit`, applied by the info service. */
export const InfoQueryListLimit = { default: 100, max: 1000 } as const;

export const InfoQueryListFilterSchema = Type.Object({
  projectPrefix: Type.Optional(NonEmptyString('only projects whose path starts with this, e.g. projects/demo/')),
  project: Type.Optional(NonEmptyString('only this project (exact package directory)')),
  submitId: Type.Optional(NonEmptyString('only builds of this submission')),
  states: Type.Optional(Type.Array(BuildStateSchema, { description: 'only builds in one of these states' })),
  dist: Type.Optional(NonEmptyString('only this dist')),
  arch: Type.Optional(NonEmptyString('only this arch')),
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
      queryId: NonEmptyString('id of this query; the answer carries it back'),
      replyTo: NonEmptyString('client id: the answer is published with this key'),
      at: Type.Optional(IsoDateTime('when the query was sent')),
      ...question,
    },
    { description },
  );
}

export const InfoQueryByBuildSchema = queryShape('The record of one build.', {
  buildId: NonEmptyString('build id'),
});
export const InfoQueryByProjectSchema = queryShape('The latest build of each target of a project.', {
  project: NonEmptyString('package directory in the sources repo'),
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
