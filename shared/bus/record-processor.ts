import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/index.ts';
import { isBuildfleetError, toBuildfleetError } from '../errors/index.ts';
import { decodeValue } from './codec.ts';
import { deadletterOf } from './dead-letter.ts';
import type { BusRecord, ConsumeOptions, OutgoingMessage } from './port.ts';

/** A record as it comes off the wire, before decoding. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

export interface ProcessContext {
  group: string;
  deadletterTopic: string;
  publish: (topic: string, message: OutgoingMessage) => Promise<void>;
  logger: Logger;
  /** Aborted when the subscription closes: retries stop and the record stays unhandled. */
  signal: AbortSignal;
}

const DEFAULT_HANDLER_ATTEMPTS = 3;
const RETRY_BASE_MS = 100;

/**
 * Decodes a record and runs the handler. A record that fails to decode, or whose handler keeps
 * failing, is published to the dead-letter topic and counts as handled, so the consumer moves on.
 * Resolves when the record may be committed; rejects only when the subscription is closing
 * (or the dead letter cannot be written), so that the record is delivered again.
 */
export async function processRecord<T>(raw: RawRecord, options: ConsumeOptions<T>, ctx: ProcessContext): Promise<void> {
  const decoded = decodeValue(raw.value, options.decode);
  if (!decoded.ok) {
    await deadLetter(raw, decoded.reason, ctx);
    return;
  }
  const record: BusRecord<T> = { ...raw, value: decoded.value };
  const attempts = Math.max(1, options.handlerAttempts ?? DEFAULT_HANDLER_ATTEMPTS);
  for (let attempt = 1; ; attempt++) {
    ctx.signal.throwIfAborted();
    try {
      await options.handle(record, ctx.signal);
      return;
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      const failure = toBuildfleetError(error);
      const final = attempt >= attempts || (isBuildfleetError(failure) && !failure.retriable);
      ctx.logger.warn(
        { err: failure, topic: raw.topic, partition: raw.partition, offset: raw.offset, attempt, final },
        'bus: handler failed',
      );
      if (final) {
        await deadLetter(raw, `handler failed after ${attempt} attempt(s): [${failure.code}] ${failure.message}`, ctx);
        return;
      }
      await sleep(RETRY_BASE_MS * 2 ** (attempt - 1), undefined, { signal: ctx.signal });
    }
  }
}

async function deadLetter(raw: RawRecord, reason: string, ctx: ProcessContext): Promise<void> {
  ctx.logger.warn(
    { topic: raw.topic, partition: raw.partition, offset: raw.offset, group: ctx.group, reason: reason.slice(0, 4096) },
    'bus: message sent to the dead-letter topic',
  );
  await ctx.publish(ctx.deadletterTopic, {
    key: raw.topic,
    value: deadletterOf(raw, { reason, group: ctx.group, at: new Date() }),
  });
}
