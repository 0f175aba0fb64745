/** deadletter (on `<prefix>.deadletter`, key: source topic): a message a consumer rejected. */
import { Type, type Static } from '@sinclair/typebox';
import { IsoDateTime, NonEmptyString, OFFSET_PATTERN, SHA256_PATTERN, literalUnion, messageHead } from './common.ts';

export const DeadletterVersion = 1;

/**
 * A dead letter fits in one Kafka record whatever it reports on (Kafka's default
 * `max.message.bytes` is 1048588): its JSON is at most `maxBytes`; the reason and the key are
 * cut to their limits, and the payload to what is left, keeping the length and SHA-256 of the
 * whole value (shared/bus/dead-letter.ts builds them).
 */
export const DeadletterLimits = Object.freeze({ maxBytes: 1_000_000, reasonChars: 4096, keyChars: 1024 });

export const PayloadEncodings = ['utf8', 'base64'] as const;
export type PayloadEncoding = (typeof PayloadEncodings)[number];

export const DeadletterSchema = Type.Object(
  {
    ...messageHead(DeadletterVersion, 'deadletter'),
    reason: NonEmptyString('why the message was rejected (the decode error)'),
    sourceTopic: NonEmptyString('topic the message was read from'),
    partition: Type.Integer({ minimum: 0, description: 'partition it was read from' }),
    offset: Type.String({ pattern: OFFSET_PATTERN, description: 'its offset, a decimal string as kafkajs gives it' }),
    key: Type.Union([Type.String(), Type.Null()], {
      description: 'its key as UTF-8 text (cut to DeadletterLimits.keyChars), or null',
    }),
    payload: Type.String({
      description:
        'its value: UTF-8 text, or base64 when payloadEncoding is base64; the start only when payloadTruncated',
    }),
    payloadEncoding: Type.Optional(
      literalUnion(PayloadEncodings, { description: 'base64 when the value was not valid UTF-8; default utf8' }),
    ),
    payloadTruncated: Type.Optional(
      Type.Boolean({
        description: 'true when payload holds only the start of the value (the record would be too large)',
      }),
    ),
    payloadBytes: Type.Optional(
      Type.Integer({ minimum: 0, description: 'with payloadTruncated: the length of the whole value in bytes' }),
    ),
    payloadSha256: Type.Optional(
      Type.String({ pattern: SHA256_PATTERN, description: 'with payloadTruncated: the SHA-256 of the whole value' }),
    ),
    group: NonEmptyString('consumer group that rejected it'),
    at: IsoDateTime('when it was rejected'),
  },
  { description: 'A message that failed its schema (or could not be handled), kept with where it came from.' },
);
export type Deadletter = Static<typeof DeadletterSchema>;
