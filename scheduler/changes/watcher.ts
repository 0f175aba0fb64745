/**
 * The git watcher (DESIGN.md §5): polls the watched branch of the sources repo (and polls at
 * once when poked by a push webhook), decides with ./plan.ts which packages the new commit
 * rebuilds, submits one build.submit per package, then moves its cursors. Submitting before
 * moving the cursors means a crash in between repeats the submissions, which the scheduler
 * drops by their deterministic submitId; nothing is ever skipped.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/log/index.ts';
import { BuildfleetError, isBuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import { buildSubmit, projectProblem, type BuildSubmit } from '../../shared/messages/index.ts';
import { redactCredentials, type SourceRepo } from '../../shared/sources/index.ts';
import { branchCursor, builtCursor, type CursorStore } from './cursors.ts';
import { packagesAtCommit, type PackageAtCommit } from './packages-at-commit.ts';
import { basesToCompare, describeReason, planRebuilds, type RebuildDecision } from './plan.ts';
import { batchesOf } from './batches.ts';
import { loadSourceGraph, type SourceGraph } from '../../shared/sources/graph/index.ts';

export interface SourceWatcherOptions {
  /** Git access (the cached mirror of shared/sources). */
  sources: SourceRepo;
  /** URL of the sources repo. */
  url: string;
  /** The branch whose new commits are built, e.g. `main`. */
  branch: string;
  /** Time from the end of one poll to the next; a webhook poke polls sooner. @default 30000 */
  intervalMs?: number;
  /** Directory for the temporary checkouts of new commits (each removed after its poll); created when missing. */
  workDir: string;
  /** Where the branch and per-package cursors are kept. */
  cursors: CursorStore;
  /** Publishes the submissions of one poll (to `buildfleet.submit`); the cursors move only once it resolves. */
  submit: (submits: BuildSubmit[], signal: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Aborting it aborts the running poll and stops the watcher. */
  signal?: AbortSignal;
}

export const DEFAULT_POLL_INTERVAL_MS = 30_000;

export type PollOutcome =
  /** The branch is still at the commit processed last. */
  | { status: 'unchanged'; head: string }
  /** A new commit was processed: these packages were submitted and the cursors moved to `head`. */
  | { status: 'processed'; head: string; previous: string | undefined; decisions: RebuildDecision[] }
  /** Nothing was submitted or moved; the next poll tries again. */
  | { status: 'failed'; error: BuildfleetError }
  /** The watcher was stopped before this poll could run or finish. */
  | { status: 'stopped' };

export interface SourceWatcher {
  /** Polls at once, then `intervalMs` after the end of each poll, until stop(). */
  start(): void;
  /** Asks for a poll now (a push webhook arrived). Coalesced: at most one poll runs and one waits. */
  poke(): void;
  /** Like poke(), resolving with the outcome of the poll that covers this call. Never rejects. */
  poll(): Promise<PollOutcome>;
  /** Stops the timer, drops a waiting poll and waits for the running one. Idempotent. */
  stop(): Promise<void>;
}

const STOPPED: PollOutcome = { status: 'stopped' };

export function createSourceWatcher(options: SourceWatcherOptions): SourceWatcher {
  const intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new BuildfleetError(
      'config-invalid',
      `the poll interval must be a positive number of ms, not ${intervalMs}`,
      {
        context: { key: 'intervalMs', value: intervalMs },
      },
    );
  }
  const { sources, url, branch, cursors } = options;
  const shownUrl = redactCredentials(url);
  const logger = options.logger.child({ component: 'git-watcher', url: shownUrl, branch });
  const controller = new AbortController();
  let running: Promise<PollOutcome> | undefined;
  let waiting: Promise<PollOutcome> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;

  const onAbort = (): void => {
    clearTimeout(timer);
    controller.abort(options.signal?.reason);
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const halted = (): boolean => stopping !== undefined || controller.signal.aborted;

  function schedule(): void {
    clearTimeout(timer);
    timer = undefined;
    if (started && !halted()) timer = setTimeout(() => void poll(), intervalMs);
  }

  function launch(): Promise<PollOutcome> {
    clearTimeout(timer);
    const current: Promise<PollOutcome> = pollSafely().finally(() => {
      if (running === current) running = undefined;
      schedule();
    });
    running = current;
    return current;
  }

  function poll(): Promise<PollOutcome> {
    if (halted()) return Promise.resolve(STOPPED);
    if (running === undefined) return launch();
    waiting ??= running.then(() => {
      waiting = undefined;
      return halted() ? STOPPED : launch();
    });
    return waiting;
  }

  async function pollSafely(): Promise<PollOutcome> {
    const signal = controller.signal;
    try {
      return await pollOnce(signal);
    } catch (thrown) {
      if (signal.aborted) return STOPPED;
      const error = toBuildfleetError(thrown);
      const level = error.retriable ? 'warn' : 'error';
      logger[level]({ err: error }, 'poll of the sources repo failed; it is tried again at the next poll');
      return { status: 'failed', error };
    }
  }

  async function pollOnce(signal: AbortSignal): Promise<PollOutcome> {
    const head = await sources.resolveRef({ url, ref: branch, signal });
    const branchName = branchCursor(branch);
    const previous = cursors.get(branchName);
    if (head === previous) {
      logger.debug({ head }, 'branch unchanged');
      return { status: 'unchanged', head };
    }
    const { packages, graph } = await readPackages(head, signal);
    const builtAt = new Map<string, string>();
    for (const { project } of packages) {
      const commit = cursors.get(builtCursor(project));
      if (commit !== undefined) builtAt.set(project, commit);
    }
    const changedSince = new Map<string, readonly string[]>();
    for (const base of basesToCompare({ head, packages, builtAt })) {
      try {
        changedSince.set(base, await sources.changedPaths({ url, from: base, to: head, signal }));
      } catch (error) {
        // History rewritten (force push): the old commit is gone, so its packages simply build.
        if (!isBuildfleetError(error, 'source-commit-missing')) throw error;
        logger.warn({ base, head, err: error }, 'last built commit no longer exists; its packages build');
      }
    }
    const decisions = planRebuilds({ head, packages, builtAt, changedSince });
    const at = new Date().toISOString();
    const batches = batchesOf(
      decisions.map((decision) => decision.project),
      graph,
    );
    const submits = decisions.map((decision) => {
      const batch = batches.get(decision.project);
      return { ...submitFor(decision.project, head, at), ...(batch ? { batch } : {}) };
    });
    logDecisions(decisions, packages, head);
    if (submits.length > 0) await options.submit(submits, signal);
    await cursors.set([
      ...decisions.map((decision) => ({ name: builtCursor(decision.project), commit: head })),
      { name: branchName, commit: head },
    ]);
    logger.info(
      { head, previous: previous ?? null, submitted: decisions.map((decision) => decision.project) },
      submits.length > 0 ? 'new commit: submitted the changed packages' : 'new commit: no package changed',
    );
    return { status: 'processed', head, previous, decisions };
  }

  /** The packages at `head` and their dependency graph, from one checkout. */
  async function readPackages(
    head: string,
    signal: AbortSignal,
  ): Promise<{ packages: PackageAtCommit[]; graph: SourceGraph }> {
    await mkdir(options.workDir, { recursive: true });
    const dir = await mkdtemp(join(options.workDir, 'changes-'));
    try {
      await sources.checkout({ url, commit: head, dest: dir, signal });
      const found = await packagesAtCommit(dir, signal);
      // A directory whose path can be no project (`a@b`, a space, 300 characters) cannot have a
      // build key, so it cannot be built: it is skipped here and said so, instead of being
      // submitted and dead-lettered by the scheduler's own decoder.
      const packages = found.filter(({ project }) => {
        const problem = projectProblem(project);
        if (problem !== undefined) logger.warn({ head, project }, `package directory skipped: ${problem}`);
        return problem === undefined;
      });
      return { packages, graph: await loadSourceGraph(dir) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  function logDecisions(decisions: RebuildDecision[], packages: PackageAtCommit[], head: string): void {
    const problems = new Map(packages.map((spec) => [spec.project, spec.problem]));
    for (const { project, reason } of decisions) {
      const problem = problems.get(project);
      if (problem === undefined) {
        logger.debug({ project, head, reason: reason.kind }, `rebuild: ${describeReason(reason)}`);
      } else {
        logger.warn(
          { project, head, reason: reason.kind, err: problem },
          `rebuild: ${describeReason(reason)}; its metadata cannot be read, the build will report why`,
        );
      }
    }
  }

  return {
    start() {
      if (started || halted()) return;
      started = true;
      void poll();
    },
    poke() {
      void poll();
    },
    poll,
    stop() {
      stopping ??= (async () => {
        started = false;
        clearTimeout(timer);
        timer = undefined;
        options.signal?.removeEventListener('abort', onAbort);
        await (waiting ?? running);
      })();
      return stopping;
    },
  };
}

/** One build.submit for the package at `head`; the submitId is the same for every poll that sees this commit. */
export function submitFor(project: string, head: string, at: string): BuildSubmit {
  return buildSubmit({
    submitId: `change:${project}@${head}`,
    project,
    ref: head,
    reason: 'source-change',
    requestedBy: 'git-watcher',
    at,
  });
}
