/** The request target (`/path?query`), checked before it is routed (pure). */
import { HttpError } from './respond.ts';

export interface RequestTarget {
  /** The path as sent (still percent-encoded), without the query. */
  path: string;
  query: URLSearchParams;
}

function badEncoding(what: string): HttpError {
  return new HttpError(400, 'request-invalid', `the ${what} is not valid percent-encoding`);
}

function decodable(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Splits a request target into path and query: origin form (`/a/b?c`), or absolute form
 * (`http://host/a/b?c`, as proxies send it). 400 for anything else (`*`, `a/b`) and for bad
 * percent-encoding in the path or the query.
 */
export function parseRequestTarget(url: string): RequestTarget {
  let target = url;
  if (!target.startsWith('/')) {
    if (!/^https?:\/\//i.test(target)) {
      throw new HttpError(400, 'request-invalid', 'the request target must be a path such as /api/builds');
    }
    try {
      const absolute = new URL(target);
      target = `${absolute.pathname}${absolute.search}`;
    } catch {
      throw new HttpError(400, 'request-invalid', 'the request target is not a valid URL');
    }
  }
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  const search = mark === -1 ? '' : target.slice(mark + 1);
  if (!decodable(path)) throw badEncoding('path');
  if (search !== '' && !search.split('&').every((pair) => decodable(pair.replace(/\+/g, ' ')))) {
    throw badEncoding('query');
  }
  return { path, query: new URLSearchParams(search) };
}
