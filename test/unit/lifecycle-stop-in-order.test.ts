import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stopInOrder } from '../../shared/lifecycle/index.ts';

describe('stopInOrder (a composed service stop)', () => {
  it('runs every step in order, even after a failure, then rejects with the first failure', async () => {
    const ran: string[] = [];
    const stop = stopInOrder(
      () => {
        ran.push('server');
        return Promise.reject(new Error('server failed'));
      },
      async () => {
        ran.push('service');
        throw new Error('service failed');
      },
      () => {
        ran.push('signer');
        return undefined;
      },
    );
    await assert.rejects(stop(), /server failed/);
    assert.deepEqual(ran, ['server', 'service', 'signer']);
  });

  it('is idempotent: a second call returns the first promise and runs nothing again', async () => {
    let runs = 0;
    const stop = stopInOrder(async () => void (runs += 1));
    const first = stop();
    assert.equal(stop(), first);
    await first;
    await stop();
    assert.equal(runs, 1);
  });
});
