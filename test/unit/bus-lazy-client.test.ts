import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lazyClient } from '../../shared/bus/kafka/lazy-client.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';

/** A client whose connect fails the first `failures` times (a broker that is not up yet). */
function fakeClient(failures: number) {
  const calls = { created: 0, connected: 0, disconnected: 0 };
  let left = failures;
  const create = () => {
    calls.created += 1;
    return {
      connect: async () => {
        if (left-- > 0) throw new Error('connection refused');
        calls.connected += 1;
      },
      disconnect: async () => {
        calls.disconnected += 1;
      },
    };
  };
  return { calls, create };
}

describe('lazyClient', () => {
  it('connects once on first use and shares the client', async () => {
    const { calls, create } = fakeClient(0);
    const client = lazyClient(create);
    assert.equal(calls.created, 0);
    const [a, b] = await Promise.all([client.connected(), client.connected()]);
    assert.equal(a, b);
    assert.equal(await client.connected(), a);
    assert.deepEqual(calls, { created: 1, connected: 1, disconnected: 0 });
    await client.disconnect();
    assert.equal(calls.disconnected, 1);
  });

  it('does not keep a failed connect: bus-unavailable, then a new try', async () => {
    const { calls, create } = fakeClient(1);
    const client = lazyClient(create);
    await assert.rejects(client.connected(), (error: unknown) => {
      assert.ok(isBuildfleetError(error));
      assert.equal(error.code, 'bus-unavailable');
      assert.match(error.message, /Kafka not reachable: connection refused/);
      return true;
    });
    await client.connected();
    assert.deepEqual(calls, { created: 2, connected: 1, disconnected: 0 });
  });

  it('disconnects nothing when it never connected, or its connect failed', async () => {
    const never = fakeClient(0);
    await lazyClient(never.create).disconnect();
    assert.equal(never.calls.created, 0);
    const failed = fakeClient(1);
    const client = lazyClient(failed.create);
    await assert.rejects(client.connected());
    await client.disconnect();
    assert.equal(failed.calls.disconnected, 0);
  });
});
