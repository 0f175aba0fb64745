/**
 * Push webhooks of GitHub, Gitea (and Gogs) and GitLab, without I/O: checking that a delivery
 * carries the shared secret, reading the push out of its payload, and deciding whether it
 * concerns the watched branch. ./webhook.ts is the HTTP side.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BuildfleetError } from '../../shared/errors/index.ts';

/** Request headers as node:http gives them (names in lower case). */
export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

export type WebhookProvider = 'github' | 'gitea' | 'gogs' | 'gitlab';

export type SignatureCheck = { ok: true; provider: WebhookProvider; header: string } | { ok: false; reason: string };

/** Where each forge puts its proof, in the order they are looked for. */
const SIGNATURE_HEADERS = [
  // GitHub, and Gitea (which sends it besides its own).
  { header: 'x-hub-signature-256', provider: 'github', scheme: 'hmac-sha256-prefixed' },
  { header: 'x-gitea-signature', provider: 'gitea', scheme: 'hmac-sha256' },
  { header: 'x-gogs-signature', provider: 'gogs', scheme: 'hmac-sha256' },
  // GitLab sends the secret token itself, not a signature.
  { header: 'x-gitlab-token', provider: 'gitlab', scheme: 'token' },
] as const;

/**
 * Checks a delivery against the secret: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`
 * (GitHub), `X-Gitea-Signature` / `X-Gogs-Signature: <hex HMAC-SHA256>` (Gitea, Gogs) over
 * the raw body, or `X-Gitlab-Token: <secret>` (GitLab). The first of these headers present
 * decides; every comparison takes the same time whatever the bytes.
 */
export function checkWebhookSignature(headers: WebhookHeaders, body: Uint8Array, secret: string): SignatureCheck {
  if (secret === '') return { ok: false, reason: 'no webhook secret is configured' };
  for (const { header, provider, scheme } of SIGNATURE_HEADERS) {
    const value = headerValue(headers, header);
    if (value === undefined) continue;
    const valid =
      scheme === 'token'
        ? sameSecret(value, secret)
        : sameHmac(scheme === 'hmac-sha256-prefixed' ? withoutPrefix(value, 'sha256=') : value, body, secret);
    return valid
      ? { ok: true, provider, header }
      : { ok: false, reason: `${header} does not match the configured secret` };
  }
  return {
    ok: false,
    reason: `no signature: expected one of ${SIGNATURE_HEADERS.map(({ header }) => header).join(', ')}`,
  };
}

function sameHmac(hex: string | undefined, body: Uint8Array, secret: string): boolean {
  const expected = createHmac('sha256', secret).update(body).digest();
  if (hex === undefined || !/^[0-9a-f]{64}$/i.test(hex)) return false;
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}

/** Hashing both first gives equal lengths, so neither the length nor the bytes of the secret leak. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}

function withoutPrefix(value: string, prefix: string): string | undefined {
  return value.toLowerCase().startsWith(prefix) ? value.slice(prefix.length) : undefined;
}

export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.trim();
}

export type WebhookEvent =
  /** GitHub's test delivery when a hook is made. */
  | { kind: 'ping' }
  | { kind: 'push'; ref: string; after: string }
  /** Any other event (tag creation, pull requests, ...); `event` as the forge names it. */
  | { kind: 'other'; event: string };

/** The event name header of each forge; Gitea sends X-GitHub-Event too, so its own is looked at first. */
const EVENT_HEADERS = ['x-gitea-event', 'x-gogs-event', 'x-github-event', 'x-gitlab-event'] as const;

const PUSH_EVENTS = new Set(['push', 'push hook', 'system hook']);

/**
 * Reads a delivery: a JSON body, or GitHub's form encoding (`payload=<json>`).
 * @throws BuildfleetError('request-invalid') for a body that is not JSON, or a push without `ref` and `after`
 */
export function parseWebhookEvent(headers: WebhookHeaders, body: Uint8Array): WebhookEvent {
  const eventHeader = EVENT_HEADERS.map((name) => headerValue(headers, name)).find((value) => value !== undefined);
  const event = eventHeader?.toLowerCase();
  if (event === 'ping') return { kind: 'ping' };
  if (event !== undefined && !PUSH_EVENTS.has(event)) return { kind: 'other', event: eventHeader ?? event };
  const payload = payloadOf(headers, body);
  // A GitLab system hook carries every kind of event; only its push payloads matter.
  const objectKind = payload['object_kind'];
  if (typeof objectKind === 'string' && objectKind !== 'push') return { kind: 'other', event: objectKind };
  const ref = payload['ref'];
  const after = payload['after'];
  if (
    typeof ref !== 'string' ||
    ref === '' ||
    typeof after !== 'string' ||
    !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(after)
  ) {
    throw invalid('a push payload needs "ref" (refs/heads/<branch>) and "after" (a full commit id)');
  }
  return { kind: 'push', ref, after: after.toLowerCase() };
}

function payloadOf(headers: WebhookHeaders, body: Uint8Array): Record<string, unknown> {
  let text = Buffer.from(body).toString('utf8');
  const contentType = headerValue(headers, 'content-type')?.toLowerCase() ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(text).get('payload');
    if (form === null) throw invalid('a form-encoded delivery needs a "payload" field');
    text = form;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`the body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('the body is not a JSON object');
  return value as Record<string, unknown>;
}

function invalid(message: string): BuildfleetError {
  return new BuildfleetError('request-invalid', `webhook delivery: ${message}`);
}

export type PushDecision = { action: 'poll'; commit: string } | { action: 'ignore'; reason: string };

const ZERO_COMMIT = /^0+$/;

/** A push to `refs/heads/<branch>` asks for a poll; a deleted branch, other branches and tags do not. */
export function decidePush(push: { ref: string; after: string }, branch: string): PushDecision {
  const watched = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
  if (push.ref !== watched) return { action: 'ignore', reason: `${push.ref} is not the watched ${watched}` };
  if (ZERO_COMMIT.test(push.after)) return { action: 'ignore', reason: `${push.ref} was deleted` };
  return { action: 'poll', commit: push.after };
}

/**
 * Where each forge names a delivery: GitHub (and Gitea, besides its own), Gitea, Gogs, GitLab
 * (`Idempotency-Key` is kept across GitLab's retries, `X-Gitlab-Event-UUID` names the event).
 */
export const DELIVERY_HEADERS = [
  'x-github-delivery',
  'x-gitea-delivery',
  'x-gogs-delivery',
  'idempotency-key',
  'x-gitlab-event-uuid',
] as const;

/** The delivery's id from the first of DELIVERY_HEADERS present, or undefined. */
export function deliveryIdOf(headers: WebhookHeaders): string | undefined {
  for (const name of DELIVERY_HEADERS) {
    const value = headerValue(headers, name);
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

export interface DeliveryMemoryOptions {
  /** Keys remembered at most (two per delivery: id and body); the oldest go first. @default 20000 */
  maxEntries?: number;
  /** A delivery is remembered this long. @default 86400000 (24 h) */
  windowMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * The deliveries seen lately, for replay protection. A delivery is known by its id and by the
 * digest of its body: the forges sign the body only, so a captured delivery sent again under a
 * new id still has a known body. Bounded in count and age; in memory only (a restart forgets).
 */
export class DeliveryMemory {
  private readonly seenAt = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: DeliveryMemoryOptions = {}) {
    this.maxEntries = Math.max(2, options.maxEntries ?? 20_000);
    this.windowMs = Math.max(1, options.windowMs ?? 24 * 60 * 60 * 1000);
    this.now = options.now ?? Date.now;
  }

  /** The keys of a delivery: `id:<delivery id>` and `body:<sha256 of the body>`. */
  static keysOf(deliveryId: string, body: Uint8Array): string[] {
    return [`id:${deliveryId}`, `body:${createHash('sha256').update(body).digest('hex')}`];
  }

  /** Whether any of the keys was remembered within the window. */
  has(keys: readonly string[]): boolean {
    this.expire();
    return keys.some((key) => this.seenAt.has(key));
  }

  remember(keys: readonly string[]): void {
    const at = this.now();
    for (const key of keys) {
      this.seenAt.delete(key);
      this.seenAt.set(key, at);
    }
    while (this.seenAt.size > this.maxEntries) {
      const oldest = this.seenAt.keys().next().value;
      if (oldest === undefined) break;
      this.seenAt.delete(oldest);
    }
  }

  get size(): number {
    return this.seenAt.size;
  }

  /** Insertion order is age order: drop from the front while too old. */
  private expire(): void {
    const limit = this.now() - this.windowMs;
    for (const [key, at] of this.seenAt) {
      if (at > limit) break;
      this.seenAt.delete(key);
    }
  }
}
