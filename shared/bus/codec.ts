import { BuildfleetError, toBuildfleetError } from '../errors/index.ts';
import type { OutgoingMessage } from './port.ts';

/** Serialises a message value: JSON, or the bytes as they are. */
function encodeValue(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new BuildfleetError('message-invalid', 'bus: a message value must be JSON-serialisable');
  }
  return Buffer.from(text, 'utf8');
}

export function encodeMessage(message: OutgoingMessage): {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
} {
  return { key: message.key, value: encodeValue(message.value), headers: { ...(message.headers ?? {}) } };
}

/** One message or a batch, encoded for the broker. */
export function encodeMessages(
  messages: OutgoingMessage | readonly OutgoingMessage[],
): Array<ReturnType<typeof encodeMessage>> {
  const list: readonly OutgoingMessage[] = Array.isArray(messages) ? messages : [messages as OutgoingMessage];
  return list.map(encodeMessage);
}

export type DecodeOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses the bytes as JSON and runs the consumer's decoder; never throws. */
export function decodeValue<T>(bytes: Buffer | null, decode: (value: unknown) => T): DecodeOutcome<T> {
  if (bytes === null) return { ok: false, reason: 'empty message (no value)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${toBuildfleetError(error).message}` };
  }
  try {
    return { ok: true, value: decode(parsed) };
  } catch (error) {
    return { ok: false, reason: toBuildfleetError(error, 'message-invalid').message };
  }
}

/** The raw value as text for the dead-letter record: UTF-8 when it is valid UTF-8, base64 otherwise. */
export function payloadText(bytes: Buffer | null): { payload: string; payloadEncoding?: 'base64' } {
  if (bytes === null) return { payload: '' };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (Buffer.from(text, 'utf8').equals(bytes)) return { payload: text };
  return { payload: bytes.toString('base64'), payloadEncoding: 'base64' };
}
