/**
 * `Host` and `Origin` checks against DNS rebinding and cross-site requests (docs/security.md,
 * "HTTP identities"); pure functions of the headers and the server's policy.
 *
 * - `Host`: a name must be one the server is known by (its public URL, its listen address,
 *   `localhost`, the extra names configured); an IP literal is always accepted, since DNS
 *   rebinding needs a name the attacker controls. Anything else is 421.
 * - `Origin` (else `Referer`) of a request that changes something (not GET/HEAD/OPTIONS): when a
 *   browser sends one, it must be the server's own (the same host as the request's `Host`) or the
 *   origin of a configured name; else 403. Clients that are not browsers send neither.
 */
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './respond.ts';

export interface HostPolicy {
  /** Host names (lower case, no port) requests may name; `*` accepts every Host (behind a proxy that checks it). */
  names: ReadonlySet<string> | '*';
  /** Names whose origins may send requests that change something, besides the server's own. */
  originNames: ReadonlySet<string>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

/** `example.org:8080` / `[::1]:80` -> `{ hostname, host }` lower case, or undefined when it is no host. */
function parseHost(value: string): { hostname: string; host: string } | undefined {
  if (value === '' || /[\s/?#@\\]/.test(value)) return undefined;
  try {
    const url = new URL(`http://${value}`);
    return { hostname: url.hostname.replace(/^\[|\]$/g, ''), host: url.host };
  } catch {
    return undefined;
  }
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The policy of a server: `publicUrls` (where clients reach it), its listen address, `localhost`
 * and `extraNames` (`*` in them accepts every Host).
 */
export function hostPolicy(input: {
  publicUrls: readonly string[];
  listenHost: string;
  extraNames?: readonly string[];
}): HostPolicy {
  const extra = (input.extraNames ?? []).map((name) => name.toLowerCase());
  const configured = new Set<string>(extra.filter((name) => name !== '*'));
  for (const url of input.publicUrls) {
    const hostname = hostnameOf(url);
    if (hostname !== undefined) configured.add(hostname);
  }
  const names = new Set(configured);
  names.add('localhost');
  if (!WILDCARD_ADDRESSES.has(input.listenHost)) names.add(input.listenHost.toLowerCase().replace(/^\[|\]$/g, ''));
  return { names: extra.includes('*') ? '*' : names, originNames: configured };
}

/** Throws 421 for a Host the server is not known by, 403 for a foreign Origin on a request that changes something. */
export function checkHostAndOrigin(policy: HostPolicy, request: IncomingMessage): void {
  const hostHeader = request.headers.host;
  // HTTP/1.0 without Host: nothing to check (the router refuses HTTP/1.1 without one)
  if (hostHeader === undefined) return;
  const host = parseHost(hostHeader);
  if (host === undefined) throw new HttpError(400, 'request-invalid', `the Host header "${hostHeader}" is not a host`);
  if (policy.names !== '*' && isIP(host.hostname) === 0 && !policy.names.has(host.hostname)) {
    throw new HttpError(
      421,
      'forbidden',
      `this server is not ${host.hostname} (Host header); add the name to info.http.allowedHosts if it is`,
      { context: { host: host.hostname } },
    );
  }
  if (SAFE_METHODS.has(request.method ?? 'GET')) return;
  const origin = request.headers.origin ?? request.headers.referer;
  if (origin === undefined) return;
  const from = origin === 'null' ? undefined : safeUrl(origin);
  if (
    from !== undefined &&
    (from.host === host.host || policy.originNames.has(from.hostname.replace(/^\[|\]$/g, '')))
  ) {
    return;
  }
  throw new HttpError(403, 'forbidden', `requests from origin ${origin} may not ${request.method ?? ''} here`, {
    context: { origin },
  });
}

function safeUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
