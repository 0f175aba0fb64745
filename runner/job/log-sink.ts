import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { logChunk, type LogChunk } from '../../shared/messages/index.ts';

export interface LogSinkOptions {
  buildId: string;
  attempt: number;
  /** The full log is written here as it comes (uploaded at the end). */
  file: string;
  /** Sends one chunk to the logs topic; failures are reported to onError and the build goes on. */
  send: (chunk: LogChunk) => Promise<void>;
  onError: (error: unknown) => void;
  /** Lines per chunk at most. @default 200 */
  maxLines?: number;
  /** A partial chunk is sent after this long. @default 250 */
  flushMs?: number;
  /** Applied to every line before it is written or sent (host paths out). @default none */
  redact?: (line: string) => string;
}

/**
 * The log of one build attempt: every line goes to a file (the full log) and, in numbered
 * chunks, to the logs topic while the build runs, so `logs -f` follows it live.
 */
export class LogSink {
  private readonly file: WriteStream;
  private pending: string[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxLines: number;
  private readonly flushMs: number;
  /** The last lines, for error messages. */
  private readonly tail: string[] = [];

  constructor(private readonly options: LogSinkOptions) {
    this.file = createWriteStream(options.file, { flags: 'a' });
    this.maxLines = options.maxLines ?? 200;
    this.flushMs = options.flushMs ?? 250;
  }

  line(raw: string): void {
    if (this.closed) return;
    const text = this.options.redact === undefined ? raw : this.options.redact(raw);
    this.file.write(`${text}\n`);
    this.tail.push(text);
    if (this.tail.length > 40) this.tail.shift();
    this.pending.push(text);
    if (this.pending.length >= this.maxLines) this.flush(false);
    else this.timer ??= setTimeout(() => this.flush(false), this.flushMs);
  }

  /** The last lines written (at most 40). */
  lastLines(count = 20): string[] {
    return this.tail.slice(-count);
  }

  /** Sends what is pending as the final chunk and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.sending;
    this.flush(true);
    this.closed = true;
    this.file.end();
    await once(this.file, 'close');
    await this.sending;
  }

  private flush(final: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0 && !final) return;
    const chunk = logChunk({
      buildId: this.options.buildId,
      attempt: this.options.attempt,
      seq: this.seq++,
      lines: this.pending,
      final: final ? true : undefined,
    });
    this.pending = [];
    // Chunks go out one after another, in seq order.
    this.sending = this.sending.then(() => this.options.send(chunk)).catch(this.options.onError);
  }
}
