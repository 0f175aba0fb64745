import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../shared/exec/index.ts';
import { rejection } from '../harness/errors.ts';

/** A pid counts as gone when it no longer exists or is a zombie waiting for its reaper. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('runCommand', { timeout: 30_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'buildfleet-exec-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('streams lines of both streams in order, including a last line without newline', async () => {
    const lines: string[] = [];
    const result = await runCommand(
      'sh',
      ['-c', 'echo out1; echo err1 >&2; printf "out2\\r\\nout3"; printf "err2" >&2'],
      {
        onLine: (line, stream) => lines.push(`${stream}:${line}`),
      },
    );
    assert.equal(result.exitCode, 0);
    assert.deepEqual(
      lines.filter((line) => line.startsWith('stdout:')),
      ['stdout:out1', 'stdout:out2', 'stdout:out3'],
    );
    assert.deepEqual(
      lines.filter((line) => line.startsWith('stderr:')),
      ['stderr:err1', 'stderr:err2'],
    );
    assert.equal(result.stdout, 'out1\nout2\r\nout3');
    assert.equal(result.stderr, 'err1\nerr2');
    assert.equal(result.outputTruncated, false);
    assert.ok(result.durationMs >= 0);
  });

  it('delivers a line while the command is still running', async () => {
    // The command waits for a file that only the line listener creates: it can only end
    // if 'first' reached the listener before the process exited.
    const flag = join(dir, 'flag-streaming');
    const lines: string[] = [];
    const result = await runCommand(
      'sh',
      ['-c', 'echo first; while [ ! -e "$1" ]; do sleep 0.02; done; echo second', 'sh', flag],
      {
        timeoutMs: 10_000,
        onLine: (line) => {
          lines.push(line);
          if (line === 'first') writeFileSync(flag, '');
        },
      },
    );
    assert.deepEqual(lines, ['first', 'second']);
    assert.equal(result.stdout, 'first\nsecond\n');
  });

  it('passes input, env and cwd', async () => {
    const result = await runCommand('sh', ['-c', 'cat; echo "$BUILDFLEET_TEST_VALUE"; pwd'], {
      input: 'from stdin\n',
      env: { BUILDFLEET_TEST_VALUE: 'from env' },
      cwd: dir,
    });
    assert.equal(result.stdout, `from stdin\nfrom env\n${dir}\n`);
  });

  it('keeps only the end of long output', async () => {
    const result = await runCommand('seq', ['1', '20000'], { keepOutputChars: 100 });
    assert.ok(result.stdout.endsWith('19999\n20000\n'));
    assert.ok(result.stdout.length <= 100);
    assert.equal(result.outputTruncated, true);
  });

  it('fails with exec-failed, the exit code and the stderr tail', async () => {
    const error = await rejection(
      runCommand('sh', ['-c', 'echo working; echo "boom: missing file" >&2; exit 3']),
      'the command to fail',
    );
    assert.equal(error.code, 'exec-failed');
    assert.equal(error.retriable, false);
    assert.equal(error.context['exitCode'], 3);
    assert.equal(error.context['stderrTail'], 'boom: missing file\n');
    assert.match(String(error.context['command']), /^sh -c 'echo working/);
    assert.match(error.message, /exited with code 3: boom: missing file$/);
  });

  it('accepts exit codes listed in okExitCodes', async () => {
    const result = await runCommand('sh', ['-c', 'exit 1'], { okExitCodes: [0, 1] });
    assert.equal(result.exitCode, 1);
  });

  it('fails with exec-failed when the program does not exist', async () => {
    const error = await rejection(runCommand(join(dir, 'no-such-program'), []));
    assert.equal(error.code, 'exec-failed');
    assert.equal(error.context['errno'], 'ENOENT');
  });

  it('stops a command at its time limit with exec-timeout', async () => {
    const started = performance.now();
    const error = await rejection(runCommand('sleep', ['30'], { timeoutMs: 200 }));
    assert.equal(error.code, 'exec-timeout');
    assert.ok(performance.now() - started < 5000);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled by user'));
    const error = await rejection(
      runCommand('sh', ['-c', `touch ${join(dir, 'should-not-exist')}`], { signal: controller.signal }),
    );
    assert.equal(error.code, 'aborted');
    assert.equal(existsSync(join(dir, 'should-not-exist')), false);
  });

  it('on abort kills a process that ignores SIGTERM after the grace period', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const promise = runCommand('sh', ['-c', 'trap "" TERM; echo ready; sleep 30'], {
      signal: controller.signal,
      killGraceMs: 300,
      onLine: (line) => {
        if (line === 'ready') controller.abort(new Error('build cancelled'));
      },
    });
    const error = await rejection(promise);
    const elapsed = performance.now() - started;
    assert.equal(error.code, 'aborted');
    assert.match(error.message, /build cancelled/);
    assert.ok(elapsed >= 300, `stopped after ${elapsed} ms, before the grace period`);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });

  it('on abort kills grandchildren too', async () => {
    const controller = new AbortController();
    let grandchild: number | undefined;
    const promise = runCommand('sh', ['-c', 'sleep 30 & echo $!; wait'], {
      signal: controller.signal,
      onLine: (line) => {
        grandchild = Number(line);
        controller.abort();
      },
    });
    const error = await rejection(promise);
    assert.equal(error.code, 'aborted');
    assert.ok(grandchild !== undefined && grandchild > 0);
    await waitFor(() => isGone(grandchild ?? 0), 2000);
  });

  it('kills what a command leaves behind when it exits', async () => {
    // The background sleep keeps stdout open; without the group kill this would take 30 s.
    const started = performance.now();
    const result = await runCommand('sh', ['-c', 'sleep 30 & echo $!'], { killGraceMs: 1000 });
    const leftover = Number(result.stdout.trim());
    assert.ok(performance.now() - started < 5000);
    await waitFor(() => isGone(leftover), 2000);
  });
});
