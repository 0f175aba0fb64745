/**
 * `POST /hooks/git`: the push webhook of the sources repo (GitHub, Gitea/Gogs, GitLab). A
 * verified push to the watched branch pokes the git watcher, so a new commit is built
 * without waiting for the next poll; the watcher still decides what changed, so a webhook
 * never has to be trusted for more than "look now".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/log/index.ts';
import { BuildfleetError, isBuildfleetError, type ErrorCode } from '../../shared/errors/index.ts';
import { readBody } from '../../shared/http/body.ts';
import { HttpError } from '../../shared/http/respond.ts';
import type { HttpRoute, RouteHandler } from '../../shared/http/index.ts';
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

export type GitWebhookHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The push webhook as a route of the shared HTTP layer, for every server that serves it (the
 * scheduler's webhook listener, the all-in-one's API port). `webhook()` gives the handler, or
 * undefined while there is none (no secret set, or not started yet): then 404.
 */
export function webhookRoute(webhook: () => GitWebhookHandler | undefined): HttpRoute {
  const handler: RouteHandler = (request, response) => {
    const handle = webhook();
    if (handle === undefined) {
      throw new BuildfleetError('not-found', 'no webhook: set the secret (scheduler.sources.webhookSecretEnv)');
    }
    handle(request, response);
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

/** A node:http request handler answering `POST /hooks/git` (404 for other paths, 405 for other methods). */
export function createGitWebhookHandler(options: GitWebhookOptions): GitWebhookHandler {
  if (options.secret === '') {
    throw new BuildfleetError('config-invalid', 'the git webhook needs a secret (webhookSecret)', {
      context: { key: 'webhookSecret' },
    });
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  const logger = options.logger.child({ component: 'git-webhook' });
  const deliveries = new DeliveryMemory(options.deliveries);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== WEBHOOK_PATH) return answerError(response, 404, 'not-found', `no such path: ${path}`);
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      return answerError(response, 405, 'request-invalid', `${WEBHOOK_PATH} takes POST only`);
    }
    let body: Buffer;
    try {
      body = await readBody(request, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      if (error.status !== 413) return answerError(response, error.status, error.code, error.message);
      // The rest of the body is left unread: the connection cannot carry another request.
      response.setHeader('connection', 'close');
      return answerError(response, 413, 'request-invalid', `the body exceeds ${maxBodyBytes} bytes`);
    }
    const signature = checkWebhookSignature(request.headers, body, options.secret);
    if (!signature.ok) {
      logger.warn({ remote: request.socket.remoteAddress, reason: signature.reason }, 'webhook delivery refused');
      return answerError(response, 401, 'webhook-signature-invalid', signature.reason);
    }
    // Replay protection: a signed delivery must say which delivery it is, and is acted on once.
    const delivery = deliveryIdOf(request.headers);
    if (delivery === undefined) {
      return answerError(
        response,
        400,
        'request-invalid',
        `webhook delivery: no delivery id: expected one of ${DELIVERY_HEADERS.join(', ')}`,
      );
    }
    const keys = DeliveryMemory.keysOf(delivery, body);
    if (deliveries.has(keys)) {
      logger.warn({ remote: request.socket.remoteAddress, delivery }, 'webhook delivery repeated: ignored');
      return answer(response, 200, { status: 'duplicate', delivery });
    }
    let event;
    try {
      event = parseWebhookEvent(request.headers, body);
    } catch (error) {
      if (!isBuildfleetError(error)) throw error;
      return answerError(response, 400, error.code, error.message);
    }
    deliveries.remember(keys);
    switch (event.kind) {
      case 'ping':
        return answer(response, 200, { status: 'pong' });
      case 'other':
        return answer(response, 200, { status: 'ignored', reason: `event ${event.event} is not a push` });
      case 'push': {
        const decision = decidePush(event, options.branch);
        if (decision.action === 'ignore') return answer(response, 200, { status: 'ignored', reason: decision.reason });
        logger.info({ provider: signature.provider, ref: event.ref, commit: decision.commit }, 'push webhook: polling');
        options.onPush({ commit: decision.commit, ref: event.ref, provider: signature.provider });
        return answer(response, 202, { status: 'accepted', commit: decision.commit });
      }
      default: {
        const unknown: never = event;
        throw new Error(`unhandled webhook event ${String(unknown)}`);
      }
    }
  }

  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'webhook delivery failed');
      if (response.headersSent) response.destroy();
      else answerError(response, 500, 'internal', 'the webhook could not be handled');
    });
  };
}

function answer(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function answerError(response: ServerResponse, status: number, code: ErrorCode, message: string): void {
  answer(response, status, { error: { code, message } });
}
