/**
 * Commands run as leaders of their own process group (spawned `detached`), so signalling
 * `-pgid` reaches everything they started: `sh -c 'make'` -> make -> gcc all stop together.
 * Detached groups do not die with us, so groups still running when this process exits are
 * killed from an 'exit' listener that is installed only while such groups exist.
 */
const liveGroups = new Set<number>();

function killLiveGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
}

/** Sends a signal to every process of the group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Stops one command's process group: SIGTERM first, SIGKILL after `graceMs`, and SIGKILL
 * for whatever is left when the command's promise has settled (see finish()).
 */
export class ProcessGroup {
  private killTimer: NodeJS.Timeout | undefined;
  private terminating = false;

  constructor(
    readonly pgid: number,
    private readonly graceMs: number,
  ) {
    if (liveGroups.size === 0) process.on('exit', killLiveGroups);
    liveGroups.add(pgid);
  }

  /** SIGTERM to the group now, SIGKILL after the grace period. Repeated calls do nothing. */
  terminate(): void {
    if (this.terminating) return;
    this.terminating = true;
    if (!signalGroup(this.pgid, 'SIGTERM')) return;
    this.killTimer = setTimeout(() => signalGroup(this.pgid, 'SIGKILL'), this.graceMs);
  }

  /** The command is over: kill leftovers at once and stop tracking the group. */
  finish(): void {
    clearTimeout(this.killTimer);
    signalGroup(this.pgid, 'SIGKILL');
    liveGroups.delete(this.pgid);
    if (liveGroups.size === 0) process.off('exit', killLiveGroups);
  }
}
