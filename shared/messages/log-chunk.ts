/** log.chunk (on `<prefix>.logs`, key: build id): log lines of a running build, as they are written. */
import { Type, type Static } from '@sinclair/typebox';
import { BuildAttemptFields, IsoDateTime, messageHead } from './common.ts';
import { stamped, type MessageFields } from './envelope.ts';

export const LogChunkVersion = 1;

export const LogChunkSchema = Type.Object(
  {
    ...messageHead(LogChunkVersion, 'log.chunk'),
    ...BuildAttemptFields,
    seq: Type.Integer({ minimum: 0, description: '0, 1, 2, ... per build attempt, in the order written' }),
    lines: Type.Array(Type.String(), { description: 'log lines without line terminators' }),
    at: IsoDateTime('when the chunk was sent'),
    final: Type.Optional(Type.Boolean({ description: 'true on the last chunk of the attempt' })),
  },
  { description: 'A run of log lines of one build attempt; chunks of an attempt are numbered by seq.' },
);
export type LogChunk = Static<typeof LogChunkSchema>;

/** A log.chunk: `v` and `type` filled, `at` now unless given; optional fields given as undefined are left out. */
export function logChunk(fields: MessageFields<LogChunk>): LogChunk {
  return { v: LogChunkVersion, type: 'log.chunk', ...stamped(fields) };
}
