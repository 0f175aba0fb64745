/**
 * Requests node refuses before any route sees them (its 'clientError' event): headers beyond
 * maxHeaderSize (431; 414 when the request line itself overflowed), a request that took longer
 * than requestTimeout (408), anything that does not parse as HTTP (400). Answered in JSON like
 * every other refusal, then the connection is closed.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/index.ts';

export interface ClientErrorAnswer {
  status: number;
  message: string;
}

type ClientError = Error & { code?: string; rawPacket?: unknown };

/**
 * True when the request line is what overflowed: the packet node was parsing starts with
 * `METHOD ` and its first line does not end in it, or names a target beyond `maxUrlBytes`.
 * Best effort: node does not say which part overflowed.
 */
function requestLineOverflowed(packet: unknown, maxUrlBytes: number): boolean {
  if (!Buffer.isBuffer(packet)) return false;
  const text = packet.toString('latin1');
  const start = /^[A-Z]+ (\S*)/.exec(text);
  if (!start) return false;
  return !text.includes('\r\n') || (start[1] ?? '').length > maxUrlBytes;
}

/** Pure: the answer to a request node could not take. */
export function clientErrorAnswer(error: ClientError, maxUrlBytes: number): ClientErrorAnswer {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return requestLineOverflowed(error.rawPacket, maxUrlBytes)
      ? { status: 414, message: `the request target is longer than ${maxUrlBytes} bytes` }
      : { status: 431, message: 'the request headers are too large' };
  }
  if (error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW')
    return { status: 413, message: 'the chunk extensions are too large' };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'the request did not arrive in time' };
  return { status: 400, message: `the request is not valid HTTP (${error.code ?? error.message})` };
}

function rawJsonResponse({ status, message }: ClientErrorAnswer): string {
  const body = JSON.stringify({ error: { code: 'request-invalid', message } });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'cache-control: no-store\r\n' +
    'connection: close\r\n\r\n' +
    body
  );
}

/** A 'clientError' listener; never throws, always ends or destroys the socket. */
export function createClientErrorListener(
  name: string,
  maxUrlBytes: number,
  logger?: Logger,
): (error: ClientError, socket: Duplex) => void {
  return (error, socket) => {
    // node keeps the response of the request on its socket: once it has begun, a second answer would be mixed into it
    const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent === true) {
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(error, maxUrlBytes);
    logger?.debug({ err: error, status: answer.status }, `${name}: request refused before routing`);
    socket.end(rawJsonResponse(answer));
  };
}
