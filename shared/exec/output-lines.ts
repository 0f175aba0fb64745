import { StringDecoder } from 'node:string_decoder';

export type OutputStream = 'stdout' | 'stderr';
export type LineListener = (line: string, stream: OutputStream) => void;

/** A line longer than this is passed on in pieces, so a stream without newlines cannot grow memory. */
const MAX_LINE_CHARS = 64 * 1024;

/**
 * Splits one output stream into lines as chunks arrive (UTF-8 safe across chunk borders,
 * `\r\n` treated as `\n`, a last line without newline delivered at the end) and keeps the
 * last `tailChars` characters for the result and error messages.
 */
export class OutputLines {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private kept = '';
  private dropped = false;
  /** The first error thrown by the listener; reported after the command ends. */
  listenerError: unknown;

  constructor(
    private readonly stream: OutputStream,
    private readonly tailChars: number,
    private readonly onLine: LineListener | undefined,
  ) {}

  write(chunk: Buffer | string): void {
    this.take(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** Flushes the decoder and a last line that had no newline. */
  end(): void {
    this.take(this.decoder.end());
    if (this.partial !== '') this.emit(this.partial);
    this.partial = '';
  }

  get text(): string {
    return this.kept.length > this.tailChars ? this.kept.slice(-this.tailChars) : this.kept;
  }

  get truncated(): boolean {
    return this.dropped || this.kept.length > this.tailChars;
  }

  private take(text: string): void {
    if (text === '') return;
    this.kept += text;
    // Trim only when twice over the limit so long outputs are not re-sliced on every chunk.
    if (this.kept.length > 2 * this.tailChars) {
      this.kept = this.kept.slice(-this.tailChars);
      this.dropped = true;
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
    while (this.partial.length > MAX_LINE_CHARS) {
      this.emit(this.partial.slice(0, MAX_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
  }

  private emit(line: string): void {
    if (this.onLine === undefined || this.listenerError !== undefined) return;
    try {
      this.onLine(line, this.stream);
    } catch (error) {
      this.listenerError = error;
    }
  }
}
