/**
 * A server-sent events parser (the text/event-stream format of the HTML standard), fed with text
 * as it arrives. Pure: no I/O, so it is unit-tested on awkward chunk boundaries.
 */

export interface ServerSentEvent {
  /** The `event:` field; 'message' when the server gave none. */
  event: string;
  /** The `data:` lines joined with '\n'. */
  data: string;
  /** The `id:` field, when given. */
  id?: string;
}

export interface SseParser {
  /** Feeds the next piece of the stream; returns the events it completed. */
  push(text: string): ServerSentEvent[];
}

export function createSseParser(): SseParser {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  // A '\r' at the end of a piece may be the first half of '\r\n'.
  let pendingCr = false;

  function line(text: string, out: ServerSentEvent[]): void {
    if (text === '') {
      if (data.length > 0) out.push({ event: event || 'message', data: data.join('\n'), ...(id ? { id } : {}) });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return; // a comment (keep-alive)
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    // `retry` and unknown fields are ignored.
  }

  return {
    push(text) {
      const out: ServerSentEvent[] = [];
      let input = text;
      if (pendingCr && input.startsWith('\n')) input = input.slice(1);
      pendingCr = false;
      buffer += input;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const char = buffer[i];
        if (char !== '\n' && char !== '\r') continue;
        line(buffer.slice(start, i), out);
        if (char === '\r') {
          if (i + 1 < buffer.length) {
            if (buffer[i + 1] === '\n') i++;
          } else pendingCr = true;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
      return out;
    },
  };
}
