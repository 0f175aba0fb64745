/**
 * Runs git through shared/exec: the whole process tree (git and the transport helpers it
 * starts, such as git-remote-https or ssh) stops on abort or time-out, which simple-git's
 * abort (it kills only the git process) does not give. Errors come back with credentials
 * removed from the command line and git's output.
 */
import { BuildfleetError, isBuildfleetError } from '../../errors/index.ts';
import { runCommand, type CommandResult } from '../../exec/index.ts';
import { redactCredentials } from './repo-url.ts';

export interface GitOptions {
  /** The repository (git -C). */
  cwd?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  okExitCodes?: readonly number[];
  /** Output kept; git commands whose output is parsed fail rather than return a truncated list. @default 64 MiB */
  keepOutputChars?: number;
}

/** Never prompt for credentials (a prompt would hang a service); messages in English for the logs. */
export const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', LC_ALL: 'C' };

export async function runGit(args: readonly string[], options: GitOptions = {}): Promise<CommandResult> {
  const fullArgs = options.cwd === undefined ? args : ['-C', options.cwd, ...args];
  let result: CommandResult;
  try {
    result = await runCommand('git', fullArgs, {
      env: GIT_ENV,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      okExitCodes: options.okExitCodes,
      killGraceMs: 2000,
      keepOutputChars: options.keepOutputChars ?? 64 * 1024 * 1024,
    });
  } catch (error) {
    throw redacted(error);
  }
  if (result.outputTruncated) {
    throw new BuildfleetError('internal', `git ${args[0] ?? ''}: output longer than the limit, not parsed`);
  }
  return result;
}

/** The same error without credentials in its message or context; the original (unredacted) is dropped. */
function redacted(error: unknown): unknown {
  if (!isBuildfleetError(error)) return error;
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error.context)) {
    context[key] = typeof value === 'string' ? redactCredentials(value) : value;
  }
  return new BuildfleetError(error.code, redactCredentials(error.message), { retriable: error.retriable, context });
}
