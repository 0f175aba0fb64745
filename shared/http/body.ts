/**
 * The one request body reader: a size limit checked against the declared length first and
 * against what arrives after (413), and the JSON reading of the routes that take JSON (415 for
 * another content type, 400 for a body that does not parse).
 */
import type { IncomingMessage } from 'node:http';
import { toBuildfleetError } from '../errors/index.ts';
import { HttpError } from './respond.ts';

/** True when the request announces a body (a length above 0, or chunked). */
export function hasBody(request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = request.headers['content-length'];
  return length !== undefined && length !== '0';
}

export function bodyTooLarge(limit: number): HttpError {
  return new HttpError(413, 'request-invalid', `the body is larger than ${limit} bytes`, { context: { limit } });
}

/** 413 at once when the declared length is over the limit. */
export function checkDeclaredLength(request: IncomingMessage, limit: number): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw bodyTooLarge(limit);
}

/**
 * The whole body, at most `limit` bytes. Over the limit it stops reading (the rest is left
 * unread: answer with `connection: close`) and throws a 413 HttpError.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(request, limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      detach();
      // Pausing, not destroying: destroying the request would cut the socket the 413 goes out on.
      request.pause();
      reject(bodyTooLarge(limit));
    };
    const onEnd = (): void => {
      detach();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      detach();
      reject(error);
    };
    // Ends before its body did: the client went away (the answer will not reach it either).
    const onClose = (): void => {
      detach();
      reject(new HttpError(400, 'request-invalid', 'the client went away before the body was complete'));
    };
    const detach = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

/** `application/json` or `application/<anything>+json`, in UTF-8 when a charset is named. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(type)) return false;
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * The body of a JSON route: `undefined` when there is none; 415 when a body comes with another
 * content type (or none: a browser can send those across origins without asking first), 413
 * over the limit, 400 when it does not parse.
 */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  if (!hasBody(request)) return undefined;
  const type = request.headers['content-type'];
  if (!isJsonContentType(type)) {
    throw new HttpError(
      415,
      'request-invalid',
      `the body must be JSON (content-type: application/json), not ${type === undefined ? 'untyped' : type}`,
      { context: { contentType: type ?? null } },
    );
  }
  const text = (await readBody(request, limit)).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'request-invalid', `the body is not valid JSON: ${toBuildfleetError(error).message}`);
  }
}
