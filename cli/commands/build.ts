/**
 * `buildfleet build <project>`: submits a build; with --wait follows it to its end, printing each
 * target's state changes, and exits 0 only when every target reached the goal.
 */
import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import { BuildfleetError } from '../../shared/errors/index.ts';
import {
  buildKeyOf,
  isEndState,
  submissionProgress,
  type BuildRecord,
  type SubmitScope,
  type Target,
} from '../../shared/messages/index.ts';
import type { ClusterClient } from '../client/port.ts';
import { formatEventLine } from '../format/events.ts';
import { lastLines } from '../format/records.ts';
import {
  applyEvent,
  newSubmissionWatch,
  submissionVerdict,
  type SubmissionWatch,
  type WaitGoal,
} from '../format/submission.ts';
import { collectTarget } from '../format/targets.ts';
import {
  interruptSignal,
  printJson,
  whoAsks,
  withClient,
  withConnectionOptions,
  type ClientCommandOptions,
} from './client-options.ts';

interface BuildOptions extends ClientCommandOptions {
  target?: Target[];
  ref?: string;
  submitId?: string;
  wait?: boolean;
  until: WaitGoal;
  timeout?: number;
  ignoreDeps?: boolean;
  dist?: string;
}

/** Exit codes of `build --wait` (docs/cli.md). */
export const BuildExit = { ok: 0, failed: 1, timedOut: 2, interrupted: 130 } as const;

/** Without --target the package decides how many builds there are: wait this long for more after all known ended. */
const SETTLE_MS = 1500;
/** When no build of the submission has shown up after this long, say so once. */
const QUIET_HINT_MS = 30_000;
const LOG_TAIL_LINES = 20;
/** A submission of many packages prints its progress at most this often. */
const PROGRESS_MS = 2000;

/** The options `build` and `rebuild` share: targets, ref, idempotency, dependencies, waiting. */
function submitOptions(command: Command): Command {
  return withConnectionOptions(
    command
      .option('--target <dist.arch>', 'build only this target; repeatable', collectTarget)
      .option('--ref <ref>', 'branch, tag or commit of the sources repo (default: its default branch)')
      .option('--submit-id <id>', 'idempotency key: the same id twice is one submission (default: a new uuid)')
      .option(
        '--ignore-deps',
        'do not wait for dependencies being built: build against what is published (bootstraps a cycle)',
      )
      .option('--wait', 'follow the builds; exit 0 only when every target reached the goal (see --until)')
      .addOption(
        new Option('--until <state>', 'with --wait: the goal every target must reach')
          .choices(['published', 'succeeded'])
          .default('published'),
      )
      .option('--timeout <minutes>', 'with --wait: give up after this many minutes (exit 2)', parseMinutes)
      .option('--json', 'print { submitId }, or with --wait the final build records as a JSON array'),
  );
}

export function registerBuild(program: Command): void {
  submitOptions(
    program
      .command('build [project]')
      .description(
        'submit a build of a package (all its targets, or the given ones), or with --all of every package under ' +
          'a directory in dependency order; --wait follows it to the end',
      )
      .option('--all', 'every package under the directory [project] (default: projects), ordered by the graph')
      .option('--dist <dist>', 'with --all: only targets of this dist'),
  ).action(async (project: string | undefined, options: BuildOptions & { all?: boolean }) => {
    if (project === undefined && !options.all) {
      throw new BuildfleetError('usage', 'build needs a project (or --all for every package)');
    }
    if (options.dist !== undefined && !options.all) throw new BuildfleetError('usage', '--dist goes with --all');
    await submitAndFollow(project ?? 'projects', options, options.all ? 'all' : undefined);
  });
  submitOptions(
    program
      .command('rebuild <project>')
      .description(
        'rebuild a package from the same sources with a higher rebuild number (deb +bN, rpm .bN), so that ' +
          'apt and dnf upgrade to it; --dependants also every package building against it, in dependency order',
      )
      .option('--dependants', 'also rebuild every package that builds against it, directly or not')
      .option('--dist <dist>', 'with --dependants: only targets of this dist'),
  ).action(async (project: string, options: BuildOptions & { dependants?: boolean }) => {
    if (options.dist !== undefined && !options.dependants) {
      throw new BuildfleetError('usage', '--dist goes with --dependants');
    }
    await submitAndFollow(project, options, options.dependants ? 'dependants' : 'rebuild');
  });
}

async function submitAndFollow(project: string, options: BuildOptions, scope: SubmitScope | undefined): Promise<void> {
  const submitId = options.submitId ?? randomUUID();
  const request = {
    project,
    ...(options.target && options.target.length > 0 ? { targets: options.target } : {}),
    ...(options.ref ? { ref: options.ref } : {}),
    submitId,
    requestedBy: whoAsks(),
    ...(options.ignoreDeps ? { ignoreDeps: true } : {}),
    ...(scope ? { scope } : {}),
    ...(options.dist ? { dist: options.dist } : {}),
  };
  await withClient(options, async (client) => {
    if (!options.wait) {
      const answer = await client.submit(request);
      if (options.json) printJson(answer);
      else process.stdout.write(`${answer.submitId}\n`);
      return;
    }
    const many = scope === 'all' || scope === 'dependants';
    const expected = many ? [] : (options.target ?? []).map((target) => buildKeyOf(project, target));
    process.exitCode = await waitForSubmission(client, { ...options, project, submitId, expected, many }, () =>
      client.submit(request),
    );
  });
}

interface WaitSettings {
  project: string;
  /** A submission of many packages: followed by its submitId, with a progress line instead of every event. */
  many: boolean;
  submitId: string;
  expected: string[];
  until: WaitGoal;
  timeout?: number;
  json?: boolean;
}

async function waitForSubmission(
  client: ClusterClient,
  settings: WaitSettings,
  submit: () => Promise<unknown>,
): Promise<number> {
  // With --json, stdout carries only the JSON; the progress goes to stderr.
  const human = settings.json ? process.stderr : process.stdout;
  const interrupt = interruptSignal();
  const stop = new AbortController();
  const timeoutMs = settings.timeout === undefined ? undefined : settings.timeout * 60_000;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => stop.abort('timeout'), timeoutMs);
  interrupt.signal.addEventListener('abort', () => stop.abort('interrupt'), { once: true });
  const watch = newSubmissionWatch(settings.submitId, settings.expected);
  let wake: () => void = () => {};
  try {
    // Listen before submitting, so no event of the submission can be missed. The filter is the
    // project, not the submitId: a reused running build keeps the submitId it was started with.
    // A submission of many packages: every event (its builds are of many projects), a progress line
    // when it changes (at most every PROGRESS_MS), and the lines of builds that end without the goal.
    let lastProgress = '';
    let progressAt = 0;
    const watching = await client.watch(
      settings.many ? {} : { project: settings.project },
      (event) => {
        const changed = applyEvent(watch, event);
        if (changed && settings.many) {
          if (isEndState(changed.state)) human.write(`${formatEventLine(event)}\n`);
          const progress = submissionProgress(settings.submitId, [...watch.builds.values()]).text;
          if (progress !== lastProgress && Date.now() - progressAt >= PROGRESS_MS) {
            human.write(`progress: ${progress}\n`);
            lastProgress = progress;
            progressAt = Date.now();
          }
        } else if (changed) {
          const keyWidth = Math.max(...settings.expected.map((key) => key.length), ...keyLengths(watch));
          human.write(`${formatEventLine(event, { keyWidth })}\n`);
        }
        wake();
      },
      stop.signal,
    );
    const lost = watching.ended.then(() => 'ended' as const);
    // Raced below; marked handled so a loss while submitting is not an unhandled rejection.
    lost.catch(() => {});
    await submit();
    process.stderr.write(`submitted ${settings.submitId} (${settings.project}); waiting for ${settings.until}\n`);
    const started = Date.now();
    let hinted = false;
    for (;;) {
      const verdict = submissionVerdict(watch, settings.until);
      if (verdict.status !== 'pending' && settings.expected.length === 0) {
        // The package decides the targets: give late `submitted` events a moment.
        const before = watch.builds.size;
        await Promise.race([lost, sleep(SETTLE_MS, stop.signal)]);
        if (watch.builds.size !== before || submissionVerdict(watch, settings.until).status === 'pending') continue;
      }
      if (verdict.status !== 'pending' || stop.signal.aborted) break;
      const next = new Promise<void>((resolve) => (wake = resolve));
      const ended = await Promise.race([next.then(() => 'event' as const), lost, sleep(1000, stop.signal)]);
      if (ended === 'ended' && !stop.signal.aborted)
        throw new BuildfleetError('api-unavailable', 'the event stream ended');
      if (!hinted && watch.builds.size === 0 && Date.now() - started > QUIET_HINT_MS) {
        hinted = true;
        process.stderr.write(`no build of submission ${settings.submitId} seen yet (is the scheduler running?)\n`);
      }
    }
    stop.abort('done');
    await watching.ended;
  } finally {
    clearTimeout(timer);
    interrupt.dispose();
    stop.abort('done');
  }

  const verdict = submissionVerdict(watch, settings.until);
  if (verdict.status === 'pending') {
    const states = [...watch.builds.values()].map((b) => `${b.buildKey} ${b.state}`).join(', ') || 'no build seen';
    const missing = verdict.missingKeys.length > 0 ? `; no build yet for ${verdict.missingKeys.join(', ')}` : '';
    if (settings.json) printJson(await finalRecords(client, watch));
    if (interrupt.signal.aborted) {
      process.stderr.write(`buildfleet: interrupted; ${states}${missing}\n`);
      return BuildExit.interrupted;
    }
    process.stderr.write(
      `buildfleet: [wait-timeout] submission ${settings.submitId} not done after ${settings.timeout} minutes: ` +
        `${states}${missing}\n`,
    );
    return BuildExit.timedOut;
  }
  if (verdict.status === 'failed') {
    for (const build of verdict.failed) await reportFailure(client, build, human);
  }
  if (settings.many) {
    human.write(`progress: ${submissionProgress(settings.submitId, [...watch.builds.values()]).text}\n`);
  }
  if (settings.json) printJson(await finalRecords(client, watch));
  else if (verdict.status === 'ok') human.write(`all ${verdict.builds.length} build(s) reached ${settings.until}\n`);
  return verdict.status === 'ok' ? BuildExit.ok : BuildExit.failed;
}

/** The error and the last log lines of a build that did not reach the goal. */
async function reportFailure(client: ClusterClient, build: BuildRecord, out: NodeJS.WritableStream): Promise<void> {
  const error = build.error ? `: [${build.error.code}] ${build.error.message}` : '';
  out.write(`\n${build.buildKey} ended ${build.state}${error} (build ${build.buildId})\n`);
  let text = '';
  try {
    await client.logs(build.buildId, { follow: false }, (piece) => (text += piece), AbortSignal.timeout(30_000));
  } catch (failure) {
    out.write(`  (no log: ${failure instanceof Error ? failure.message : String(failure)})\n`);
    return;
  }
  const tail = lastLines(text, LOG_TAIL_LINES);
  if (tail.length === 0) out.write('  (its log is empty)\n');
  else out.write(`--- last ${tail.length} log lines ---\n${tail.map((line) => `${line}\n`).join('')}---\n`);
}

/**
 * The records of the submission's builds from the cluster, each once the cluster's view has
 * caught up with the state seen in the events (bounded); the record folded from the events when
 * the cluster does not know the build or cannot be asked.
 */
async function finalRecords(client: ClusterClient, watch: SubmissionWatch): Promise<BuildRecord[]> {
  const records: BuildRecord[] = [];
  let reachable = true;
  let lagDeadline: number | undefined;
  for (const seen of watch.builds.values()) {
    let chosen = seen;
    while (reachable) {
      let record: BuildRecord | undefined;
      try {
        [record] = await client.builds({ buildId: seen.buildId }, AbortSignal.timeout(15_000));
      } catch {
        reachable = false;
        break;
      }
      if (record?.state === seen.state) chosen = record;
      if (record === undefined || record.state === seen.state) break;
      lagDeadline ??= Date.now() + 5000;
      if (Date.now() >= lagDeadline) break;
      await sleep(250);
    }
    records.push(chosen);
  }
  return records;
}

function keyLengths(watch: SubmissionWatch): number[] {
  return [...watch.builds.values()].map((build) => build.buildKey.length);
}

function parseMinutes(value: string): number {
  const minutes = Number(value);
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new BuildfleetError('usage', `--timeout must be a positive number of minutes (got "${value}")`);
  }
  return minutes;
}

/** Resolves after `ms`, or at once when the signal is aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<'slept'> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('slept');
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve('slept');
    }
  });
}
