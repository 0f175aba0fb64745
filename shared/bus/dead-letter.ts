/**
 * The dead-letter record of a message a consumer refused (pure). It always fits in one Kafka
 * record (DeadletterLimits in shared/messages/deadletter.ts): the reason and the key are cut,
 * and when the whole value would not fit, the payload keeps its start and the record says so
 * (`payloadTruncated`) with the length and SHA-256 of the whole value, so nothing of what was
 * refused is silently changed.
 */
import { createHash } from 'node:crypto';
import { DeadletterLimits, DeadletterVersion, type Deadletter } from '../messages/index.ts';
import { payloadText } from './codec.ts';

/** What a dead letter says of the record it reports on. */
export interface RefusedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
}

export interface DeadletterContext {
  reason: string;
  group: string;
  at: Date;
}

/** The dead letter of `raw`, at most `limits.maxBytes` of JSON. */
export function deadletterOf(
  raw: RefusedRecord,
  { reason, group, at }: DeadletterContext,
  limits: typeof DeadletterLimits = DeadletterLimits,
): Deadletter {
  const { payload, payloadEncoding } = payloadText(raw.value);
  const head: Deadletter = {
    v: DeadletterVersion,
    type: 'deadletter',
    reason: cut(reason, limits.reasonChars) || 'refused',
    sourceTopic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    key: raw.key === null ? null : cut(raw.key, limits.keyChars),
    payload: '',
    ...(payloadEncoding === undefined ? {} : { payloadEncoding }),
    group,
    at: at.toISOString(),
  };
  // More characters than bytes allowed cannot fit: the whole is not even serialised to find out.
  if (payload.length <= limits.maxBytes) {
    const whole: Deadletter = { ...head, payload };
    if (jsonBytes(whole) <= limits.maxBytes) return whole;
  }
  const value = raw.value ?? Buffer.alloc(0);
  const marked: Deadletter = {
    ...head,
    payloadTruncated: true,
    payloadBytes: value.length,
    payloadSha256: createHash('sha256').update(value).digest('hex'),
  };
  return { ...marked, payload: prefixWithin(payload, limits.maxBytes - jsonBytes(marked)) };
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** `text` cut to `max` characters, the cut marked (and never inside a surrogate pair). */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 3;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}...`;
}

/** The longest start of `text` whose JSON string encoding takes at most `room` bytes (one pass). */
export function prefixWithin(text: string, room: number): string {
  let used = 0;
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    let cost: number;
    let width = 1;
    if (code === 0x22 || code === 0x5c)
      cost = 2; // \" and \\
    else if (code < 0x20)
      cost = SHORT_ESCAPES.has(code) ? 2 : 6; // \n or \u0001
    else if (code < 0x80) cost = 1;
    else if (code < 0x800) cost = 2;
    else if (isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(at + 1))) {
      cost = 4;
      width = 2;
    } else if (isHighSurrogate(code) || isLowSurrogate(code))
      cost = 6; // a lone surrogate is written as \udxxx
    else cost = 3;
    if (used + cost > room) break;
    used += cost;
    at += width;
  }
  return text.slice(0, at);
}

/** \b \t \n \f \r */
const SHORT_ESCAPES: ReadonlySet<number> = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
