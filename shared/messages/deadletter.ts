/** deadletter (on `<prefix>.deadletter`, key: source topic): a message a consumer rejected. */
import { Type, type Static } from '@sinclair/typebox';
import { IsoDateTime, NonEmptyString, OFFSET_PATTERN, literalUnion, messageHead } from './common.ts';

export const DeadletterVersion = 1;

export const PayloadEncodings = ['utf8', 'base64'] as const;
export type PayloadEncoding = (typeof PayloadEncodings)[number];

export const DeadletterSchema = Type.Object(
  {
    ...messageHead(DeadletterVersion, 'deadletter'),
    reason: NonEmptyString('why the message was rejected (the decode error)'),
    sourceTopic: NonEmptyString('topic the message was read from'),
    partition: Type.Integer({ minimum: 0, description: 'partition it was read from' }),
    offset: Type.String({ pattern: OFFSET_PATTERN, description: 'its offset, a decimal string as kafkajs gives it' }),
    key: Type.Union([Type.String(), Type.Null()], { description: 'its key as UTF-8 text, or null' }),
    payload: Type.String({ description: 'its value: UTF-8 text, or base64 when payloadEncoding is base64' }),
    payloadEncoding: Type.Optional(
      literalUnion(PayloadEncodings, { description: 'base64 when the value was not valid UTF-8; default utf8' }),
    ),
    group: NonEmptyString('consumer group that rejected it'),
    at: IsoDateTime('when it was rejected'),
  },
  { description: 'A message that failed its schema (or could not be handled), kept with where it came from.' },
);
export type Deadletter = Static<typeof DeadletterSchema>;
