/**
 * The messages of buildfleet (DESIGN.md §3): one module per message holding its runtime
 * schema (the single source of truth), the TS type derived from it and its version; the
 * registry of types and versions; decoding with errors that name the field; key and topic
 * names. docs/messages.md describes them for users.
 */
export * from './common.ts';
export * from './build-submit.ts';
export * from './build-request.ts';
export * from './build-event.ts';
export * from './info-query.ts';
export * from './info-answer.ts';
export * from './control-cancel.ts';
export * from './log-chunk.ts';
export * from './deadletter.ts';
export * from './registry.ts';
export type { MessageFields } from './envelope.ts';
export { decodeMessage, decoderFor, decodeAnyMessage, isMessage } from './decode.ts';
export { checkedValue, describeProblem, fieldName, problemOf, type SchemaProblem } from './schema-problem.ts';
export { buildKeyOf, parseBuildKey, projectProblem, repoKeyOf } from './keys.ts';
export * from './topics.ts';
export * from './submission-progress.ts';
