import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createInputQueue } from '../../scheduler/input-queue.ts';

describe('the scheduler input queue', () => {
  it('processes inputs one at a time, in the order they arrived, whatever each takes', async () => {
    const log: string[] = [];
    let inHand = 0;
    const queue = createInputQueue<{ name: string; ms: number }, string>(async ({ name, ms }) => {
      inHand += 1;
      assert.equal(inHand, 1, `${name} started while another input was in hand`);
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      inHand -= 1;
      return name.toUpperCase();
    });
    // Pushed from three "subscriptions" at once; the first takes longest.
    const results = await Promise.all([
      queue.push({ name: 'submit', ms: 30 }),
      queue.push({ name: 'event', ms: 1 }),
      queue.push({ name: 'tick', ms: 10 }),
    ]);
    assert.deepEqual(results, ['SUBMIT', 'EVENT', 'TICK']);
    assert.deepEqual(log, ['start submit', 'end submit', 'start event', 'end event', 'start tick', 'end tick']);
  });

  it("rejects a failed input's push and goes on with the next", async () => {
    const done: number[] = [];
    const queue = createInputQueue<number, number>((n) => {
      if (n === 2) throw new Error('input 2 failed');
      if (n === 3) return Promise.reject(new Error('input 3 failed'));
      done.push(n);
      return Promise.resolve(n);
    });
    const pushed = [1, 2, 3, 4].map((n) => queue.push(n));
    assert.equal(await pushed[0], 1);
    await assert.rejects(pushed[1] ?? Promise.resolve(), /input 2 failed/);
    await assert.rejects(pushed[2] ?? Promise.resolve(), /input 3 failed/);
    assert.equal(await pushed[3], 4);
    assert.deepEqual(done, [1, 4]);
  });

  it('counts what is pending and tells when everything pushed is processed', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = createInputQueue<string, void>(async (input) => {
      if (input === 'slow') await gate;
    });
    await queue.idle();
    void queue.push('slow');
    const last = queue.push('fast');
    assert.equal(queue.pending, 2);
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await sleep(5);
    assert.equal(idle, false, 'idle while an input is in hand');
    release();
    await last;
    await waiting;
    assert.equal(queue.pending, 0);
  });
});
