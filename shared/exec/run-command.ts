import { execa } from 'execa';
import { BuildfleetError, throwIfAborted } from '../errors/index.ts';
import { OutputLines, type LineListener } from './output-lines.ts';
import { ProcessGroup } from './process-group.ts';

export interface RunCommandOptions {
  cwd?: string;
  /** Variables added to (or, with extendEnv false, replacing) this process's environment. */
  env?: Record<string, string | undefined>;
  /** Start from this process's environment. @default true */
  extendEnv?: boolean;
  /** Aborting stops the whole process tree; runCommand then rejects with BuildfleetError('aborted'). */
  signal?: AbortSignal;
  /** Stops the process tree after this long; rejects with BuildfleetError('exec-timeout'). @default no limit */
  timeoutMs?: number;
  /** Called for every output line as it is produced (without the newline). Must not throw. */
  onLine?: LineListener;
  /** Written to stdin, which is then closed. @default stdin is /dev/null */
  input?: string | Uint8Array;
  /** Time between SIGTERM and SIGKILL when the tree is stopped. @default 5000 */
  killGraceMs?: number;
  /** Characters of stdout and of stderr kept for the result (the end is kept). @default 1 MiB */
  keepOutputChars?: number;
  /** Exit codes that count as success. @default [0] */
  okExitCodes?: readonly number[];
}

export interface CommandResult {
  exitCode: number;
  /** The last `keepOutputChars` characters of stdout. */
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was longer than what was kept. */
  outputTruncated: boolean;
  durationMs: number;
}

const ERROR_TAIL_CHARS = 4096;

/**
 * Runs a program (no shell) in its own process group. Output is streamed line by line to
 * `onLine`. Stopping (abort or timeout) sends SIGTERM to the whole group and SIGKILL after
 * `killGraceMs`; the promise settles once the program has exited. Processes the program
 * leaves behind in its group are killed when it exits, so no build step outlives its command.
 * Errors: 'exec-failed' (could not start, exit code not in okExitCodes, killed by a signal),
 * 'exec-timeout', 'aborted'; each carries { command, exitCode, stderrTail, stdoutTail }.
 */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  throwIfAborted(options.signal);
  const command = displayCommand(file, args);
  const keep = options.keepOutputChars ?? 1024 * 1024;
  const stdout = new OutputLines('stdout', keep, options.onLine);
  const stderr = new OutputLines('stderr', keep, options.onLine);
  const started = performance.now();

  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.extendEnv ?? true,
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  subprocess.stdout.on('data', (chunk: Buffer | string) => stdout.write(chunk));
  subprocess.stderr.on('data', (chunk: Buffer | string) => stderr.write(chunk));

  const group =
    subprocess.pid === undefined ? undefined : new ProcessGroup(subprocess.pid, options.killGraceMs ?? 5000);
  let stoppedBy: 'abort' | 'timeout' | undefined;
  const stop = (reason: 'abort' | 'timeout'): void => {
    stoppedBy ??= reason;
    group?.terminate();
  };
  const onAbort = (): void => stop('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), options.timeoutMs);
  // Leftovers that still hold our pipes would keep the streams (and this promise) open.
  subprocess.once('exit', () => group?.terminate());

  let result;
  try {
    result = await subprocess;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    group?.finish();
  }
  stdout.end();
  stderr.end();
  const durationMs = Math.round(performance.now() - started);
  const context = {
    command,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    durationMs,
    stderrTail: stderr.text.slice(-ERROR_TAIL_CHARS),
    stdoutTail: stdout.text.slice(-ERROR_TAIL_CHARS),
  };

  if (stoppedBy === 'abort') {
    const reason: unknown = options.signal?.reason;
    const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
    throw new BuildfleetError('aborted', `${command}: stopped (${why})`, { cause: reason, context });
  }
  if (stoppedBy === 'timeout') {
    throw new BuildfleetError('exec-timeout', `${command}: stopped after the time limit of ${options.timeoutMs} ms`, {
      context,
    });
  }
  if (result.exitCode === undefined && result.signal === undefined) {
    throw new BuildfleetError('exec-failed', `${command}: could not start: ${result.shortMessage ?? 'unknown error'}`, {
      cause: result.cause,
      context: { ...context, errno: result.code ?? null },
    });
  }
  if (result.exitCode === undefined || !(options.okExitCodes ?? [0]).includes(result.exitCode)) {
    const how =
      result.exitCode === undefined ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    const lastLine = lastNonEmptyLine(context.stderrTail) ?? lastNonEmptyLine(context.stdoutTail);
    throw new BuildfleetError('exec-failed', `${command} ${how}${lastLine === undefined ? '' : `: ${lastLine}`}`, {
      context,
    });
  }
  const listenerError: unknown = stdout.listenerError ?? stderr.listenerError;
  if (listenerError !== undefined) {
    throw new BuildfleetError('internal', `${command}: the onLine listener threw`, { cause: listenerError, context });
  }
  return {
    exitCode: result.exitCode,
    stdout: stdout.text,
    stderr: stderr.text,
    outputTruncated: stdout.truncated || stderr.truncated,
    durationMs,
  };
}

function displayCommand(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

function lastNonEmptyLine(text: string): string | undefined {
  const lines = text.split('\n').map((line) => line.trim());
  return lines.reverse().find((line) => line !== '');
}
