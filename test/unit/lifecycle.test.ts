import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import { createLifecycle, type LifecycleOptions } from '../../shared/lifecycle/index.ts';
import { createLogger } from '../../shared/log/index.ts';

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function setup(options: Partial<LifecycleOptions> = {}) {
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: 'lifecycle-test',
    level: 'debug',
    destination: { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const exitCodes: number[] = [];
  const lifecycle = createLifecycle({ logger, graceMs: 1000, exit: (code) => exitCodes.push(code), ...options });
  return { lifecycle, logLines, exitCodes };
}

describe('lifecycle shutdown', { timeout: 20_000 }, () => {
  it('is idempotent: the second call returns the first promise and steps run once', async () => {
    const { lifecycle } = setup();
    let runs = 0;
    lifecycle.onShutdown('count', () => {
      runs++;
    });
    const first = lifecycle.shutdown('first');
    const second = lifecycle.shutdown('second');
    assert.equal(first, second);
    assert.equal(lifecycle.state, 'stopping');
    await first;
    assert.equal(await lifecycle.shutdown('third'), undefined);
    assert.equal(runs, 1);
    assert.equal(lifecycle.state, 'stopped');
  });

  it('aborts the lifecycle signal when shutdown starts', async () => {
    const { lifecycle } = setup();
    assert.equal(lifecycle.signal.aborted, false);
    const done = lifecycle.shutdown('test');
    assert.equal(lifecycle.signal.aborted, true);
    assert.ok(isBuildfleetError(lifecycle.signal.reason, 'aborted'));
    await done;
  });

  it('runs phases in order and steps of a phase in reverse registration order', async () => {
    const { lifecycle } = setup();
    const order: string[] = [];
    const step = (name: string) => () => {
      order.push(name);
    };
    lifecycle.onShutdown('bus', step('bus'));
    lifecycle.onShutdown('store', step('store'));
    lifecycle.onShutdown('leave-group', step('leave-group'), { phase: 'leave' });
    lifecycle.onShutdown('builds', step('builds'), { phase: 'drain' });
    lifecycle.onShutdown('consumer', step('consumer'), { phase: 'stop-intake' });
    lifecycle.onShutdown('final-events', step('final-events'), { phase: 'report' });
    await lifecycle.shutdown();
    assert.deepEqual(order, ['consumer', 'builds', 'final-events', 'leave-group', 'store', 'bus']);
  });

  it('aborts the steps signal at the grace deadline', async () => {
    const { lifecycle } = setup({ graceMs: 50, forceMs: 5000 });
    let reason: unknown;
    const started = performance.now();
    lifecycle.onShutdown('drain', async (signal) => {
      await untilAborted(signal);
      reason = signal.reason;
    });
    await lifecycle.shutdown();
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 45 && elapsed < 2000, `grace abort after ${elapsed} ms`);
    assert.ok(isBuildfleetError(reason, 'aborted'));
    assert.match((reason as Error).message, /grace period of 50 ms/);
  });

  it('treats an aborted error after the grace deadline as handing work back, not as a failure', async () => {
    const { lifecycle, logLines } = setup({ graceMs: 20, forceMs: 5000 });
    lifecycle.onShutdown('drain', async (signal) => {
      await untilAborted(signal);
      throw new BuildfleetError('aborted', 'build handed back');
    });
    await lifecycle.shutdown();
    assert.ok(logLines.some((line) => line['msg'] === 'shutdown step stopped at the grace deadline'));
  });

  it('gives up at the force deadline with shutdown-timeout and forced', async () => {
    const { lifecycle, logLines } = setup({ graceMs: 20, forceMs: 150 });
    let laterStepRan = false;
    lifecycle.onShutdown('later', () => {
      laterStepRan = true;
    });
    lifecycle.onShutdown('stuck', () => new Promise<void>(() => undefined));
    const started = performance.now();
    await assert.rejects(lifecycle.shutdown(), (error: unknown) => {
      assert.ok(isBuildfleetError(error, 'shutdown-timeout'));
      assert.equal(error.context['forced'], true);
      assert.deepEqual(error.context['pendingSteps'], ['stuck']);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 140 && elapsed < 2000, `forced after ${elapsed} ms`);
    assert.equal(laterStepRan, false);
    assert.ok(logLines.some((line) => line['msg'] === 'shutdown forced'));
  });

  it('forceShutdown skips the grace period', async () => {
    const { lifecycle } = setup({ graceMs: 60_000 });
    let stepSignal: AbortSignal | undefined;
    lifecycle.onShutdown('stuck', (signal) => {
      stepSignal = signal;
      return new Promise<void>(() => undefined);
    });
    void lifecycle.shutdown('first').catch(() => undefined);
    await assert.rejects(lifecycle.forceShutdown('second Ctrl-C'), (error: unknown) =>
      isBuildfleetError(error, 'shutdown-timeout'),
    );
    assert.equal(stepSignal?.aborted, true);
  });

  it('runs every step even when one fails, then rejects with that step named', async () => {
    const { lifecycle } = setup();
    const ran: string[] = [];
    lifecycle.onShutdown('bus', () => {
      ran.push('bus');
    });
    lifecycle.onShutdown('store', () => {
      throw new BuildfleetError('storage-unavailable', 'flush failed');
    });
    await assert.rejects(lifecycle.shutdown(), (error: unknown) => {
      assert.ok(isBuildfleetError(error, 'storage-unavailable'));
      assert.equal(error.message, 'shutdown step "store" failed: flush failed');
      return true;
    });
    assert.deepEqual(ran, ['bus']);
  });

  it('rejects forceMs below graceMs', () => {
    assert.throws(
      () => setup({ graceMs: 100, forceMs: 50 }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid'),
    );
  });
});

describe('lifecycle run', { timeout: 20_000 }, () => {
  it('exits 0 when main returns after shutdown, and waits for main before draining', async () => {
    const { lifecycle, exitCodes } = setup();
    const order: string[] = [];
    lifecycle.onShutdown('consumer', () => void order.push('stop-intake'), { phase: 'stop-intake' });
    lifecycle.onShutdown('builds', () => void order.push('drain'), { phase: 'drain' });
    const running = lifecycle.run(async (signal) => {
      await untilAborted(signal);
      await new Promise((resolve) => setImmediate(resolve));
      order.push('main returned');
    });
    void lifecycle.shutdown('test');
    assert.equal(await running, 0);
    assert.deepEqual(exitCodes, [0]);
    assert.deepEqual(order, ['stop-intake', 'main returned', 'drain']);
  });

  it('shuts down and exits 0 when main returns on its own', async () => {
    const { lifecycle, exitCodes } = setup();
    let closed = false;
    lifecycle.onShutdown('close', () => {
      closed = true;
    });
    assert.equal(await lifecycle.run(() => Promise.resolve()), 0);
    assert.equal(closed, true);
    assert.deepEqual(exitCodes, [0]);
  });

  it('exits 1 and calls onFatal when main fails', async () => {
    const fatal: BuildfleetError[] = [];
    const { lifecycle, exitCodes, logLines } = setup({ onFatal: (error) => fatal.push(error) });
    let closed = false;
    lifecycle.onShutdown('close', () => {
      closed = true;
    });
    const code = await lifecycle.run(() => Promise.reject(new BuildfleetError('bus-unavailable', 'broker gone')));
    assert.equal(code, 1);
    assert.deepEqual(exitCodes, [1]);
    assert.equal(closed, true);
    assert.deepEqual(
      fatal.map((error) => error.code),
      ['bus-unavailable'],
    );
    assert.ok(logLines.some((line) => line['level'] === 'fatal' && line['msg'] === 'fatal error'));
  });

  it('exits 1 when a component reports a fatal error through fail()', async () => {
    const { lifecycle, exitCodes } = setup();
    const running = lifecycle.run(async (signal) => {
      await untilAborted(signal);
      throw signal.reason; // an aborted error during shutdown is not another failure
    });
    lifecycle.fail(new Error('consumer crashed'));
    assert.equal(await running, 1);
    assert.deepEqual(exitCodes, [1]);
  });

  it('exits 1 when shutdown is forced', async () => {
    const { lifecycle, exitCodes } = setup({ graceMs: 10, forceMs: 50 });
    lifecycle.onShutdown('stuck', () => new Promise<void>(() => undefined));
    const running = lifecycle.run(() => new Promise<void>(() => undefined)); // main ignores its signal too
    void lifecycle.shutdown().catch(() => undefined);
    assert.equal(await running, 1);
    assert.deepEqual(exitCodes, [1]);
  });
});
