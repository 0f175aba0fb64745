import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const fixture = fileURLToPath(new URL('../fixtures/lifecycle/service.ts', import.meta.url));

/** The fixture service as a real child process, with its JSON log lines readable as they come. */
class ServiceProcess {
  readonly child: ChildProcess;
  readonly messages: string[] = [];
  private readonly waiters: { message: string; resolve: () => void }[] = [];
  private readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  constructor(scenario: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, scenario], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.exited = once(this.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let partial = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    });
  }

  private take(line: string): void {
    const message = String((JSON.parse(line) as { msg?: unknown }).msg);
    this.messages.push(message);
    for (const waiter of this.waiters.filter((entry) => entry.message === message)) waiter.resolve();
  }

  async waitForMessage(message: string, timeoutMs = 15_000): Promise<void> {
    if (this.messages.includes(message)) return;
    await withTimeout(
      new Promise<void>((resolve) => this.waiters.push({ message, resolve })),
      timeoutMs,
      `log line "${message}"`,
    );
  }

  async exitCode(timeoutMs: number): Promise<number | null> {
    const [code] = await withTimeout(this.exited, timeoutMs, 'process exit');
    return code;
  }

  /** Test cleanup: a child that is still running after a failed assertion is killed. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('lifecycle in a real process', { timeout: 40_000 }, () => {
  it('SIGTERM: stops intake, finishes in-flight work, closes clients and exits 0', async () => {
    const service = new ServiceProcess('graceful');
    try {
      await service.waitForMessage('ready');
      service.child.kill('SIGTERM');
      assert.equal(await service.exitCode(10_000), 0);
      const steps = service.messages.filter((message) =>
        ['intake stopped', 'in-flight job finished', 'clients closed', 'shutdown complete'].includes(message),
      );
      assert.deepEqual(steps, ['intake stopped', 'in-flight job finished', 'clients closed', 'shutdown complete']);
    } finally {
      await service.stop();
    }
  });

  it('a second SIGINT forces a stuck shutdown and exits 1', async () => {
    const service = new ServiceProcess('stuck');
    try {
      await service.waitForMessage('ready');
      service.child.kill('SIGINT');
      await service.waitForMessage('stuck step running');
      const forcedAt = performance.now();
      service.child.kill('SIGINT');
      assert.equal(await service.exitCode(10_000), 1);
      // graceMs is 10 s in the fixture: exiting well before proves the second SIGINT forced it.
      assert.ok(performance.now() - forcedAt < 5000);
      assert.ok(service.messages.includes('shutdown forced'));
    } finally {
      await service.stop();
    }
  });
});
