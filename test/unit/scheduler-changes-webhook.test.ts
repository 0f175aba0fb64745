import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  checkWebhookSignature,
  decidePush,
  deliveryIdOf,
  DeliveryMemory,
  parseWebhookEvent,
  type WebhookHeaders,
} from '../../scheduler/changes/webhook-payload.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import {
  githubFormPush,
  githubPing,
  githubPush,
  giteaPush,
  gitlabMergeRequest,
  gitlabPush,
  sign,
  type Delivery,
} from '../fixtures/webhooks.ts';

const SECRET = "It's a Secret to Everybody";
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const main = { ref: 'refs/heads/main', after: COMMIT };

function check(delivery: Delivery, secret = SECRET): ReturnType<typeof checkWebhookSignature> {
  return checkWebhookSignature(delivery.headers, Buffer.from(delivery.body), secret);
}

function parse(delivery: Delivery): ReturnType<typeof parseWebhookEvent> {
  return parseWebhookEvent(delivery.headers, Buffer.from(delivery.body));
}

describe('webhook signatures', () => {
  it('matches GitHub’s documented example signature', () => {
    // From GitHub's "Validating webhook deliveries" documentation.
    const headers = {
      'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    assert.deepEqual(checkWebhookSignature(headers, Buffer.from('Hello, World!'), SECRET), {
      ok: true,
      provider: 'github',
      header: 'x-hub-signature-256',
    });
  });

  it('accepts each forge’s proof and names the forge', () => {
    assert.equal(check(sign(githubPush(main), SECRET)).ok, true);
    const gitea = check(sign(giteaPush(main), SECRET));
    assert.deepEqual(gitea, { ok: true, provider: 'gitea', header: 'x-gitea-signature' });
    const gitlab = check(sign(gitlabPush(main), SECRET));
    assert.deepEqual(gitlab, { ok: true, provider: 'gitlab', header: 'x-gitlab-token' });
    const gogs = giteaPush(main);
    const hex = createHmac('sha256', SECRET).update(gogs.body).digest('hex');
    assert.equal(check({ ...gogs, headers: { ...gogs.headers, 'x-gogs-signature': hex } }).ok, true);
    // Upper-case hex and a header given twice (node passes arrays for some headers) still work.
    const upper = { 'x-gitea-signature': [hex.toUpperCase(), 'ignored'] } satisfies WebhookHeaders;
    assert.equal(checkWebhookSignature(upper, Buffer.from(gogs.body), SECRET).ok, true);
  });

  it('refuses a wrong secret, a changed body, a malformed or missing signature', () => {
    const signed = sign(githubPush(main), SECRET);
    assert.equal(check(signed, 'another secret').ok, false);
    assert.equal(check({ ...signed, body: signed.body.replace(COMMIT, 'f'.repeat(40)) }).ok, false);
    const headers = (value: string): Delivery => ({
      ...signed,
      headers: { ...signed.headers, 'x-hub-signature-256': value },
    });
    for (const bad of [
      '',
      'sha256=',
      'sha1=abc',
      'sha256=zz',
      `sha256=${'0'.repeat(64)}`,
      `sha256=${'0'.repeat(63)}`,
    ]) {
      assert.equal(check(headers(bad)).ok, false, `signature "${bad}"`);
    }
    const missing = check(githubPush(main));
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? '' : missing.reason, /no signature/);
    const gitlab = sign(gitlabPush(main), SECRET);
    assert.equal(check({ ...gitlab, headers: { ...gitlab.headers, 'x-gitlab-token': `${SECRET}x` } }).ok, false);
    assert.equal(check({ ...gitlab, headers: { ...gitlab.headers, 'x-gitlab-token': '' } }).ok, false);
    // No secret configured: nothing is ever accepted.
    assert.equal(check(sign(githubPush(main), ''), '').ok, false);
  });

  it('lets the first proof present decide: a bad GitHub header is not rescued by a good GitLab token', () => {
    const delivery = sign(gitlabPush(main), SECRET);
    delivery.headers['x-hub-signature-256'] = `sha256=${'0'.repeat(64)}`;
    assert.equal(check(delivery).ok, false);
  });
});

describe('webhook payloads', () => {
  it('reads the pushed ref and commit from each forge’s push event', () => {
    for (const delivery of [githubPush(main), githubFormPush(main), giteaPush(main), gitlabPush(main)]) {
      assert.deepEqual(parse(delivery), { kind: 'push', ref: 'refs/heads/main', after: COMMIT });
    }
    const upper = githubPush({ ref: 'refs/heads/main', after: COMMIT.toUpperCase() });
    assert.deepEqual(parse(upper), { kind: 'push', ref: 'refs/heads/main', after: COMMIT });
  });

  it('knows GitHub’s ping and other events', () => {
    assert.deepEqual(parse(githubPing()), { kind: 'ping' });
    assert.deepEqual(parse(gitlabMergeRequest()), { kind: 'other', event: 'Merge Request Hook' });
    assert.deepEqual(parse(gitlabPush({ ref: 'refs/tags/v1', after: COMMIT })), {
      kind: 'other',
      event: 'Tag Push Hook',
    });
    const issues: Delivery = { headers: { 'x-github-event': 'issues' }, body: '{"action":"opened"}' };
    assert.deepEqual(parse(issues), { kind: 'other', event: 'issues' });
    // A GitLab system hook sends every kind of event under one header.
    const system: Delivery = {
      headers: { 'x-gitlab-event': 'System Hook' },
      body: '{"object_kind":"repository_update"}',
    };
    assert.deepEqual(parse(system), { kind: 'other', event: 'repository_update' });
  });

  it('refuses bodies that are not JSON objects and pushes without ref or commit', () => {
    const cases: Delivery[] = [
      { headers: { 'x-github-event': 'push' }, body: '{"ref": "refs/heads/main", ' },
      { headers: { 'x-github-event': 'push' }, body: '[]' },
      { headers: { 'x-github-event': 'push' }, body: '{"after": "' + COMMIT + '"}' },
      { headers: { 'x-github-event': 'push' }, body: '{"ref": "refs/heads/main", "after": "abc"}' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'nothing=here' },
    ];
    for (const delivery of cases) {
      assert.throws(
        () => parse(delivery),
        (error: unknown) => isBuildfleetError(error, 'request-invalid'),
        delivery.body,
      );
    }
  });
});

describe('push decision', () => {
  it('polls for a push to the watched branch only', () => {
    assert.deepEqual(decidePush(main, 'main'), { action: 'poll', commit: COMMIT });
    assert.deepEqual(decidePush(main, 'refs/heads/main'), { action: 'poll', commit: COMMIT });
    assert.equal(decidePush({ ref: 'refs/heads/feature', after: COMMIT }, 'main').action, 'ignore');
    assert.equal(decidePush({ ref: 'refs/tags/main', after: COMMIT }, 'main').action, 'ignore');
    assert.equal(decidePush({ ref: 'refs/heads/main-2', after: COMMIT }, 'main').action, 'ignore');
    const deleted = decidePush({ ref: 'refs/heads/main', after: '0'.repeat(40) }, 'main');
    assert.deepEqual(deleted, { action: 'ignore', reason: 'refs/heads/main was deleted' });
  });
});

describe('delivery ids and replay memory', () => {
  it('reads the delivery id each forge sends', () => {
    for (const delivery of [githubPush(main), githubPing(), giteaPush(main), gitlabPush(main), gitlabMergeRequest()]) {
      assert.match(deliveryIdOf(delivery.headers) ?? '', /^[0-9a-f-]{36}$/, JSON.stringify(delivery.headers));
    }
    assert.equal(deliveryIdOf({ 'x-gogs-delivery': ' g-1 ' }), 'g-1');
    assert.equal(deliveryIdOf({ 'idempotency-key': 'k-1', 'x-gitlab-event-uuid': 'e-1' }), 'k-1');
    assert.equal(deliveryIdOf({ 'x-github-delivery': '' }), undefined);
    assert.equal(deliveryIdOf({ 'x-github-event': 'push' }), undefined);
  });

  it('knows a delivery by its id or by its body, within the window and the count', () => {
    let now = 0;
    const memory = new DeliveryMemory({ maxEntries: 4, windowMs: 1000, now: () => now });
    const first = DeliveryMemory.keysOf('d-1', Buffer.from('body 1'));
    assert.equal(memory.has(first), false);
    memory.remember(first);
    assert.equal(memory.has(first), true);
    assert.equal(memory.has(DeliveryMemory.keysOf('d-1', Buffer.from('other body'))), true, 'same id');
    assert.equal(memory.has(DeliveryMemory.keysOf('d-9', Buffer.from('body 1'))), true, 'same body, new id');
    now = 1000;
    assert.equal(memory.has(first), false, 'forgotten after the window');
    memory.remember(DeliveryMemory.keysOf('d-2', Buffer.from('body 2')));
    memory.remember(DeliveryMemory.keysOf('d-3', Buffer.from('body 3')));
    memory.remember(DeliveryMemory.keysOf('d-4', Buffer.from('body 4')));
    assert.equal(memory.size, 4, 'two keys a delivery, at most maxEntries');
    assert.equal(memory.has(DeliveryMemory.keysOf('d-2', Buffer.from('x'))), false, 'the oldest went first');
    assert.equal(memory.has(DeliveryMemory.keysOf('d-4', Buffer.from('x'))), true);
  });
});
