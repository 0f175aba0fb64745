/** Running the real `buildfleet` command (`node bin/buildfleet.js ...`) from tests. */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

const bin = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));

/**
 * The environment without BUILDFLEET_* variables, so that only the flags choose the connection,
 * plus `extra` (e.g. BUILDFLEET_LOG_LEVEL=debug, so that a failing wait shows what the client did).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BUILDFLEET_'))),
    ...extra,
  };
}

/** Runs the CLI to its end (killed after 90 s); never rejects: check `exitCode`, `stdout`, `stderr`. */
export function cli(args: string[]) {
  return execa(process.execPath, [bin, ...args], { env: cleanEnv(), extendEnv: false, reject: false, timeout: 90_000 });
}

/** Starts the CLI and collects its output as it comes, for commands that run until stopped. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
): { child: ResultPromise; out: () => string; err: () => string } {
  const child = execa(process.execPath, [bin, ...args], {
    env: cleanEnv(env),
    extendEnv: false,
    reject: false,
    timeout: 90_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, out: () => stdout, err: () => stderr };
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `log line 1` ... `log line <lines>`, newline-terminated: the log the CLI tests store and stream. */
export function logText(lines: number): string {
  return Array.from({ length: lines }, (_, n) => `log line ${n + 1}`).join('\n') + '\n';
}
