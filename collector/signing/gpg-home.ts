import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand, type CommandResult } from '../../shared/exec/index.ts';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';

/**
 * A private GNUPGHOME (mode 700) under a work directory. gpg runs in batch mode with loopback
 * pinentry so it never asks a terminal or an agent UI for a passphrase.
 */
export class GpgHome {
  private constructor(readonly dir: string) {}

  static async create(workDir: string): Promise<GpgHome> {
    const dir = await mkdtemp(path.join(workDir, 'gnupg-'));
    await chmod(dir, 0o700);
    // Loopback pinentry must be allowed by the agent for --pinentry-mode loopback to work everywhere.
    await writeFile(path.join(dir, 'gpg-agent.conf'), 'allow-loopback-pinentry\n', { mode: 0o600 });
    return new GpgHome(dir);
  }

  /**
   * Runs gpg in this home. `what` names the step for error messages; the command's output is
   * dropped from the error context because a failing import could echo key material.
   */
  async gpg(what: string, args: readonly string[], input: string | Uint8Array, signal?: AbortSignal): Promise<string> {
    let result: CommandResult;
    try {
      result = await runCommand('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
        env: { GNUPGHOME: this.dir },
        input,
        signal,
        timeoutMs: 60_000,
      });
    } catch (error) {
      if (isBuildfleetError(error, 'aborted')) throw error;
      const tail = isBuildfleetError(error) ? error.context['stderrTail'] : undefined;
      const stderr = typeof tail === 'string' ? tail : '';
      throw new BuildfleetError('signing-failed', `gpg: ${what} failed${gpgReason(stderr)}`, {
        context: { step: what, exitCode: isBuildfleetError(error) ? (error.context['exitCode'] ?? null) : null },
      });
    }
    return result.stdout;
  }

  /** Writes a mode-600 file in this home; undefined content writes nothing. */
  async writePrivateFile(name: string, content: string | undefined): Promise<string | undefined> {
    if (content === undefined) return undefined;
    const file = path.join(this.dir, name);
    await writeFile(file, content, { mode: 0o600 });
    return file;
  }

  /** Stops the gpg-agent this home started, then removes the directory. */
  async remove(): Promise<void> {
    await runCommand('gpgconf', ['--kill', 'gpg-agent'], { env: { GNUPGHOME: this.dir }, timeoutMs: 10_000 }).catch(
      () => undefined,
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** gpg's own status words (no key text) from its stderr, to say why it failed. */
function gpgReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('gpg:') && !line.includes('-----'));
  const last = lines.at(-1);
  return last === undefined ? '' : `: ${last.slice(0, 200)}`;
}
