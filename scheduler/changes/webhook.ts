/**
 * `POST /hooks/git`: the push webhook of the sources repo (GitHub, Gitea/Gogs, GitLab). A
 * verified push to the watched branch pokes the git watcher, so a new commit is built
 * without waiting for the next poll; the watcher still decides what changed, so a webhook
 * never has to be trusted for more than "look now".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/log/index.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { readBody } from '../../shared/http/body.ts';
import { sendJson, type HttpRoute, type RouteHandler } from '../../shared/http/index.ts';
import {
  checkWebhookSignature,
  decidePush,
  DELIVERY_HEADERS,
  deliveryIdOf,
  DeliveryMemory,
  parseWebhookEvent,
  type DeliveryMemoryOptions,
  type WebhookProvider,
} from './webhook-payload.ts';

export const WEBHOOK_PATH = '/hooks/git';

/** GitHub caps deliveries at 25 MB, but a push payload larger than this is no push we need. */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface GitPush {
  /** The commit the branch points at after the push. */
  commit: string;
  ref: string;
  provider: WebhookProvider;
}

export interface GitWebhookOptions {
  /** The secret configured in the forge's webhook (GitHub/Gitea "Secret", GitLab "Secret token"). */
  secret: string;
  /** The watched branch (`main` or `refs/heads/main`); pushes to other refs are answered 200 and ignored. */
  branch: string;
  /** Called for each verified push to the watched branch; the git watcher's poke. */
  onPush: (push: GitPush) => void;
  logger: Logger;
  /** Larger bodies are refused with 413. @default 5242880 (5 MiB) */
  maxBodyBytes?: number;
  /** Replay protection: how many deliveries, how long. @default DeliveryMemory's (10,000 deliveries, 24 h) */
  deliveries?: DeliveryMemoryOptions;
}

/** Answers one delivery; refusals are thrown and answered by the router (shared/http) as JSON errors. */
export type GitWebhookHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

/**
 * The push webhook as a route of the shared HTTP layer, for every server that serves it (the
 * scheduler's webhook listener, the all-in-one's API port). `webhook()` gives the handler, or
 * undefined while there is none (no secret set, or not started yet): then 404. The router
 * answers other paths (404) and methods (405).
 */
export function webhookRoute(webhook: () => GitWebhookHandler | undefined): HttpRoute {
  const handler: RouteHandler = (request, response) => {
    const handle = webhook();
    if (handle === undefined) {
      throw new BuildfleetError('not-found', 'no webhook: set the secret (scheduler.sources.webhookSecretEnv)');
    }
    return handle(request, response);
  };
  return {
    method: 'POST',
    path: WEBHOOK_PATH,
    body: 'stream',
    maxBodyBytes: DEFAULT_WEBHOOK_MAX_BODY_BYTES,
    // No token: forges sign their deliveries with the webhook secret, which the handler checks.
    access: 'public',
    handler,
  };
}

/** The handler of `POST /hooks/git`, served through webhookRoute(). */
export function createGitWebhookHandler(options: GitWebhookOptions): GitWebhookHandler {
  if (options.secret === '') {
    throw new BuildfleetError('config-invalid', 'the git webhook needs a secret (webhookSecret)', {
      context: { key: 'webhookSecret' },
    });
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  const logger = options.logger.child({ component: 'git-webhook' });
  const deliveries = new DeliveryMemory(options.deliveries);

  return async (request, response) => {
    const body = await readBody(request, maxBodyBytes);
    const signature = checkWebhookSignature(request.headers, body, options.secret);
    if (!signature.ok) {
      logger.warn({ remote: request.socket.remoteAddress, reason: signature.reason }, 'webhook delivery refused');
      throw new BuildfleetError('webhook-signature-invalid', signature.reason);
    }
    // Replay protection: a signed delivery must say which delivery it is, and is acted on once.
    const delivery = deliveryIdOf(request.headers);
    if (delivery === undefined) {
      throw new BuildfleetError(
        'request-invalid',
        `webhook delivery: no delivery id: expected one of ${DELIVERY_HEADERS.join(', ')}`,
      );
    }
    const keys = DeliveryMemory.keysOf(delivery, body);
    if (deliveries.has(keys)) {
      logger.warn({ remote: request.socket.remoteAddress, delivery }, 'webhook delivery repeated: ignored');
      return sendJson(response, 200, { status: 'duplicate', delivery });
    }
    const event = parseWebhookEvent(request.headers, body);
    deliveries.remember(keys);
    switch (event.kind) {
      case 'ping':
        return sendJson(response, 200, { status: 'pong' });
      case 'other':
        return sendJson(response, 200, { status: 'ignored', reason: `event ${event.event} is not a push` });
      case 'push': {
        const decision = decidePush(event, options.branch);
        if (decision.action === 'ignore') {
          return sendJson(response, 200, { status: 'ignored', reason: decision.reason });
        }
        logger.info({ provider: signature.provider, ref: event.ref, commit: decision.commit }, 'push webhook: polling');
        options.onPush({ commit: decision.commit, ref: event.ref, provider: signature.provider });
        return sendJson(response, 202, { status: 'accepted', commit: decision.commit });
      }
      default: {
        const unknown: never = event;
        throw new Error(`unhandled webhook event ${String(unknown)}`);
      }
    }
  };
}
