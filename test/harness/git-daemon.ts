/**
 * `git daemon` on 127.0.0.1 serving test repositories over git://, as a sources repo on
 * another host would be reached (fetches over the network, not file access). Part of
 * Debian's git package: nothing else to install.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { TestGitRepo } from './git.ts';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface GitDaemon {
  port: number;
  /** git://127.0.0.1:<port>/<repo dir name> for a repo under the served directory. */
  urlOf(repo: TestGitRepo): string;
  /** Stops the daemon (and with it every connection it serves); idempotent. */
  stop(): Promise<void>;
}

/** Serves every repository in `baseDir` (the repos of one testGitRepos() live side by side in one). */
export async function startGitDaemon(baseDir: string): Promise<GitDaemon> {
  const port = await freePort();
  const child = spawn(
    'git',
    [
      'daemon',
      '--export-all',
      `--base-path=${baseDir}`,
      '--reuseaddr',
      '--listen=127.0.0.1',
      `--port=${port}`,
      '--informative-errors',
    ],
    // Its own process group, so stop() also ends the per-connection children.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      await exited;
    })();
    return stopping;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`git daemon exited: ${stderr}`);
        return accepts(port);
      },
      'git daemon to listen',
      10_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    urlOf: (repo) => {
      if (dirname(repo.dir) !== baseDir) throw new Error(`${repo.dir} is not served from ${baseDir}`);
      return `git://127.0.0.1:${port}/${basename(repo.dir)}`;
    },
    stop,
  };
}

/** Marks a repo exportable the way git daemon expects without --export-all. */
export async function markExportable(repo: TestGitRepo): Promise<void> {
  await writeFile(join(repo.dir, '.git', 'git-daemon-export-ok'), '');
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
