/**
 * The registry of message types and their versions. A published version never changes: a
 * new version is added beside it (e.g. `2: BuildSubmitV2Schema`) and readers accept every
 * version listed here. The last version of each type is what producers write.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { BuildEventSchema } from './build-event.ts';
import { BuildRequestSchema } from './build-request.ts';
import { BuildSubmitSchema } from './build-submit.ts';
import { ControlCancelSchema } from './control-cancel.ts';
import { DeadletterSchema } from './deadletter.ts';
import { InfoAnswerSchema } from './info-answer.ts';
import { InfoQuerySchema } from './info-query.ts';
import { LogChunkSchema } from './log-chunk.ts';
import type { TopicNames } from './topics.ts';

/** Every version of every message type, oldest first. */
export const messageVersions = {
  'build.submit': { 1: BuildSubmitSchema },
  'build.request': { 1: BuildRequestSchema },
  'build.event': { 1: BuildEventSchema },
  'info.query': { 1: InfoQuerySchema },
  'info.answer': { 1: InfoAnswerSchema },
  'control.cancel': { 1: ControlCancelSchema },
  'log.chunk': { 1: LogChunkSchema },
  deadletter: { 1: DeadletterSchema },
} as const satisfies Record<string, Record<number, TSchema>>;

export type MessageType = keyof typeof messageVersions;

export const MessageTypes = [
  'build.submit',
  'build.request',
  'build.event',
  'info.query',
  'info.answer',
  'control.cancel',
  'log.chunk',
  'deadletter',
] as const satisfies readonly MessageType[];

/** The version producers write, per type. */
export const currentVersions = {
  'build.submit': 1,
  'build.request': 1,
  'build.event': 1,
  'info.query': 1,
  'info.answer': 1,
  'control.cancel': 1,
  'log.chunk': 1,
  deadletter: 1,
} as const satisfies { [T in MessageType]: keyof (typeof messageVersions)[T] };

/** The schema of the version producers write, per type. */
export const messageSchemas = {
  'build.submit': messageVersions['build.submit'][currentVersions['build.submit']],
  'build.request': messageVersions['build.request'][currentVersions['build.request']],
  'build.event': messageVersions['build.event'][currentVersions['build.event']],
  'info.query': messageVersions['info.query'][currentVersions['info.query']],
  'info.answer': messageVersions['info.answer'][currentVersions['info.answer']],
  'control.cancel': messageVersions['control.cancel'][currentVersions['control.cancel']],
  'log.chunk': messageVersions['log.chunk'][currentVersions['log.chunk']],
  deadletter: messageVersions.deadletter[currentVersions.deadletter],
} as const satisfies Record<MessageType, TSchema>;

type VersionsOf<T extends MessageType> = (typeof messageVersions)[T];
type StaticOf<S> = S extends TSchema ? Static<S> : never;

/** A message of type T, in any version this reader understands. */
export type MessageOf<T extends MessageType> = {
  [V in keyof VersionsOf<T>]: StaticOf<VersionsOf<T>[V]>;
}[keyof VersionsOf<T>];

/** A message of any known type. */
export type AnyMessage = { [T in MessageType]: MessageOf<T> }[MessageType];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && Object.hasOwn(messageVersions, value);
}

/** The versions of a type this reader understands, ascending. */
export function knownVersions(type: MessageType): number[] {
  return Object.keys(messageVersions[type])
    .map(Number)
    .sort((a, b) => a - b);
}

/** The schema of one version of a type, or undefined when this reader does not know that version. */
export function schemaOf(type: MessageType, version: unknown): TSchema | undefined {
  if (typeof version !== 'number' || !Number.isInteger(version)) return undefined;
  const versions: Readonly<Record<number, TSchema>> = messageVersions[type];
  return Object.hasOwn(versions, version) ? versions[version] : undefined;
}

/** Where a message of one type goes: its topic and its record key (DESIGN.md §2, §3). */
export interface MessageRoute<T extends MessageType> {
  topic(names: TopicNames, message: MessageOf<T>): string;
  keyOf(message: MessageOf<T>): string;
}

/** The topic and key of every message type: a producer asks here rather than choosing. */
export const messageRoutes: { [T in MessageType]: MessageRoute<T> } = {
  'build.submit': { topic: (names) => names.submit, keyOf: (message) => message.project },
  'build.request': {
    topic: (names, message) => names.requests(message.runnerGroup, message.target.arch),
    keyOf: (message) => message.buildKey,
  },
  'build.event': { topic: (names) => names.events, keyOf: (message) => message.repoKey },
  'info.query': { topic: (names) => names.infoRequests, keyOf: (message) => message.queryId },
  'info.answer': { topic: (names) => names.infoResponses, keyOf: (message) => message.replyTo },
  'control.cancel': { topic: (names) => names.control, keyOf: (message) => message.buildId },
  'log.chunk': { topic: (names) => names.logs, keyOf: (message) => message.buildId },
  deadletter: { topic: (names) => names.deadletter, keyOf: (message) => message.sourceTopic },
};

/** The topic and record of a message, ready for `bus.publish(topic, record)`. */
export function routeOf<M extends AnyMessage>(
  names: TopicNames,
  message: M,
): { topic: string; record: { key: string; value: M } } {
  const route = messageRoutes[message.type] as MessageRoute<MessageType>;
  return { topic: route.topic(names, message), record: { key: route.keyOf(message), value: message } };
}
