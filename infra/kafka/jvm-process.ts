import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. no `java` on PATH). */
  error?: Error;
}

export interface JvmLaunch {
  jvmArgs: readonly string[];
  classpath: string;
  mainClass: string;
  args: readonly string[];
  /** stdout and stderr of the JVM are appended here. */
  consoleLog: string;
  /** A detached process gets its own process group and outlives this one (the dev broker). */
  detached: boolean;
}

export interface JvmProcess {
  readonly pid: number;
  /** Resolves (never rejects) when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. Idempotent. */
  stop(graceMs: number): Promise<void>;
  /** SIGKILL. Idempotent. */
  kill(): Promise<void>;
}

// Processes this one started and still owns. Should it exit without stopping them (a test file
// that crashed before its after hooks), they are killed rather than left running.
const attached = new Set<JvmProcess>();
let exitHookInstalled = false;

function killAttachedOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const jvm of attached) {
      try {
        process.kill(jvm.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Starts a JVM; resolves once the OS has started it, rejects when it could not be started. */
export async function launchJvm(launch: JvmLaunch): Promise<JvmProcess> {
  const output = openSync(launch.consoleLog, 'a');
  let child;
  try {
    child = spawn('java', [...launch.jvmArgs, '-cp', launch.classpath, launch.mainClass, ...launch.args], {
      stdio: ['ignore', output, output],
      detached: launch.detached,
    });
  } finally {
    closeSync(output); // the child holds its own copy
  }
  let exitStatus: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitStatus = { code, signal })));
    child.once('error', (error) => resolve((exitStatus = { code: null, signal: null, error })));
  });
  await Promise.race([new Promise<void>((resolve) => child.once('spawn', resolve)), exited]);
  const pid = child.pid;
  if (exitStatus?.error !== undefined || pid === undefined) {
    throw exitStatus?.error ?? new Error('java did not start');
  }

  let stopping: Promise<void> | undefined;
  let killing: Promise<void> | undefined;
  const signal = (name: NodeJS.Signals): void => {
    if (exitStatus === undefined) child.kill(name);
  };
  const jvm: JvmProcess = {
    pid,
    exited,
    hasExited: () => exitStatus !== undefined,
    stop(graceMs) {
      stopping ??= (async () => {
        signal('SIGTERM');
        const deadline = new AbortController();
        const forceKill = sleep(graceMs, undefined, { signal: deadline.signal }).then(
          () => jvm.kill(),
          () => undefined, // exited in time
        );
        await exited;
        deadline.abort();
        await forceKill;
      })();
      return stopping;
    },
    kill() {
      killing ??= (async () => {
        signal('SIGKILL');
        await exited;
      })();
      return killing;
    },
  };
  if (launch.detached) {
    child.unref();
  } else {
    attached.add(jvm);
    killAttachedOnExit();
    void exited.then(() => attached.delete(jvm));
  }
  return jvm;
}

/**
 * Whether a process id names a running process. A zombie counts as gone: a detached broker is
 * reparented to PID 1, which may not reap it.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) S ...": the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The command line of a process, or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * Stops a process this one did not start (no exit event to wait for): SIGTERM, poll until it is
 * gone, SIGKILL after `graceMs`. Resolves true when it had to be killed.
 */
export async function stopByPid(pid: number, graceMs: number, signal?: AbortSignal): Promise<boolean> {
  const pollMs = 200;
  const send = (name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  send('SIGTERM');
  for (let waited = 0; waited < graceMs; waited += pollMs) {
    if (!isRunning(pid)) return false;
    await sleep(pollMs, undefined, { signal });
  }
  send('SIGKILL');
  for (let waited = 0; isRunning(pid) && waited < 10_000; waited += pollMs) {
    await sleep(pollMs, undefined, { signal });
  }
  return true;
}
