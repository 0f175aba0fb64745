/**
 * The log lines of running builds, as they come off the logs topic, so that a client can read
 * or follow the log before the runner uploads it. Bounded: a build keeps its last
 * `maxLinesPerBuild` lines, at most `maxBuilds` builds are kept, and a build whose final chunk
 * came is kept only among the last `maxEnded` (until its log is in the artifact store).
 * No I/O: followers are told lines through a small interface.
 */
import type { LogChunk } from '../shared/messages/index.ts';
import { StreamGate } from './stream-gate.ts';

/** Someone following a log (an HTTP response, normally). */
export interface LogFollower {
  write(lines: readonly string[]): void;
  /** The log ended (final chunk, or the build ended without one); no call follows. */
  end(): void;
}

export interface LiveLogsOptions {
  /** @default 2000 */
  maxLinesPerBuild?: number;
  /** Builds with a log in progress kept at most; the least recently written is dropped. @default 5000 */
  maxBuilds?: number;
  /** Builds whose log ended, kept until their log is in the store. @default 200 */
  maxEnded?: number;
  /** Longer lines are cut to this many characters. @default 16384 */
  maxLineLength?: number;
  /** Counts the open log follows (with the event streams: the service's one gate). @default a gate of its own */
  gate?: StreamGate;
}

interface LiveLog {
  /** 0 until the first chunk (a follower may wait for a build that has not logged yet). */
  attempt: number;
  nextSeq: number;
  lines: string[];
  ended: boolean;
  followers: Set<LogFollower>;
}

export class LiveLogs {
  /** Insertion order is write order: the first entry is the least recently written. */
  private readonly running = new Map<string, LiveLog>();
  private readonly ended = new Map<string, LiveLog>();
  private readonly maxLines: number;
  private readonly maxBuilds: number;
  private readonly maxEnded: number;
  private readonly maxLineLength: number;
  readonly gate: StreamGate;

  constructor(options: LiveLogsOptions = {}) {
    this.gate = options.gate ?? new StreamGate();
    this.maxLines = Math.max(1, options.maxLinesPerBuild ?? 2000);
    this.maxBuilds = Math.max(1, options.maxBuilds ?? 5000);
    this.maxEnded = Math.max(0, options.maxEnded ?? 200);
    this.maxLineLength = Math.max(1, options.maxLineLength ?? 16_384);
  }

  /** Whether the build's log is in progress (a chunk came, the final one did not). */
  isRunning(buildId: string): boolean {
    const log = this.running.get(buildId);
    return log !== undefined && log.attempt > 0;
  }

  /** The lines kept for a build (running or recently ended), or undefined. */
  lines(buildId: string): readonly string[] | undefined {
    const log = this.running.get(buildId) ?? this.ended.get(buildId);
    return log && log.attempt > 0 ? [...log.lines] : undefined;
  }

  /** Adds a chunk: late or repeated chunks and chunks of an older attempt are dropped. */
  add(chunk: LogChunk): void {
    let log = this.running.get(chunk.buildId);
    const done = this.ended.get(chunk.buildId);
    if (!log && done) {
      if (chunk.attempt <= done.attempt) return;
      this.ended.delete(chunk.buildId);
    }
    if (!log) {
      log = { attempt: 0, nextSeq: 0, lines: [], ended: false, followers: new Set() };
    }
    this.running.delete(chunk.buildId);
    this.running.set(chunk.buildId, log);
    if (chunk.attempt < log.attempt) return;
    if (chunk.attempt > log.attempt) {
      const restart = log.attempt > 0 ? [`--- attempt ${chunk.attempt} ---`] : [];
      log.attempt = chunk.attempt;
      log.nextSeq = 0;
      log.lines = [...restart];
      this.tell(log, restart);
    }
    if (chunk.seq < log.nextSeq) return;
    log.nextSeq = chunk.seq + 1;
    const lines = chunk.lines.map((line) =>
      line.length > this.maxLineLength ? `${line.slice(0, this.maxLineLength)}…` : line,
    );
    log.lines.push(...lines);
    if (log.lines.length > this.maxLines) log.lines.splice(0, log.lines.length - this.maxLines);
    this.tell(log, lines);
    if (chunk.final === true) this.finish(chunk.buildId, log);
    this.trim();
  }

  /**
   * Follows a build's log: the lines kept so far are written at once, then each new chunk,
   * until the final chunk or settle(). Returns a function that stops following.
   */
  follow(buildId: string, follower: LogFollower): () => void {
    let log = this.running.get(buildId);
    if (!log) {
      log = { attempt: 0, nextSeq: 0, lines: [], ended: false, followers: new Set() };
      this.running.set(buildId, log);
      this.trim();
    }
    if (log.lines.length > 0) follower.write([...log.lines]);
    log.followers.add(follower);
    const followed = log;
    return () => {
      followed.followers.delete(follower);
      // A placeholder nobody waits on any more is dropped.
      if (followed.attempt === 0 && followed.followers.size === 0 && this.running.get(buildId) === followed) {
        this.running.delete(buildId);
      }
    };
  }

  /** The build ended without a final chunk (or is over for good): its followers are ended. */
  settle(buildId: string): void {
    const log = this.running.get(buildId);
    if (log) this.finish(buildId, log);
  }

  /** Ends every follower (service stopping). */
  endAll(): void {
    for (const [buildId, log] of [...this.running]) this.finish(buildId, log);
  }

  /** Builds followed or logging now, for metrics and tests. */
  get size(): number {
    return this.running.size;
  }

  private finish(buildId: string, log: LiveLog): void {
    this.running.delete(buildId);
    log.ended = true;
    const followers = [...log.followers];
    log.followers.clear();
    for (const follower of followers) follower.end();
    if (log.attempt === 0 || this.maxEnded === 0) return;
    this.ended.set(buildId, log);
    for (const oldest of this.ended.keys()) {
      if (this.ended.size <= this.maxEnded) break;
      this.ended.delete(oldest);
    }
  }

  private tell(log: LiveLog, lines: readonly string[]): void {
    if (lines.length === 0) return;
    for (const follower of log.followers) follower.write(lines);
  }

  private trim(): void {
    for (const [buildId, log] of this.running) {
      if (this.running.size <= this.maxBuilds) break;
      this.finish(buildId, log);
    }
  }
}
