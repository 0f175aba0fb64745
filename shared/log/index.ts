import { hostname } from 'node:os';
import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { REDACTED, SECRET_KEY_NAMES } from '../config/redact.ts';

export type { Logger };
export type LogLevel = LevelWithSilent;

export interface CreateLoggerOptions {
  /** Component name, written as `name` on every line (`scheduler`, `runner`...). */
  name: string;
  /** Lowest level written; comes from the service config (`log.level`). @default 'info' */
  level?: LogLevel;
  /** Where JSON lines go; tests pass a stream to read them back. @default stdout (synchronous writes) */
  destination?: DestinationStream;
  /** Fields on every line, e.g. `{ instance: 'runner-3' }`. */
  bindings?: Record<string, string | number | boolean>;
}

/**
 * Secret keys are redacted wherever they appear up to this many objects deep; pino's
 * redaction takes explicit paths (a leading `*` matches exactly one level), so each depth
 * is listed. Deeper secrets are not expected in log objects: pass redactConfig() output
 * when logging a whole config.
 */
const REDACT_DEPTH = 4;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
    for (const name of SECRET_KEY_NAMES) paths.push([...Array<string>(depth).fill('*'), name].join('.'));
  }
  return paths;
}

/**
 * A pino logger writing JSON lines: `level` as a label ("info"), `time` as ISO text, `name`,
 * `pid`, `hostname`, the given bindings, and errors under `err`/`error` serialized with
 * their code, retriable flag, context and cause.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { pid: process.pid, hostname: hostname(), ...options.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: REDACTED },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export interface BuildLogBindings {
  buildId: string;
  runnerId?: string;
  attempt?: number;
}

/** A child logger whose lines carry buildId (and runnerId/attempt when known). */
export function forBuild(logger: Logger, bindings: BuildLogBindings): Logger {
  const fields: Record<string, string | number> = { buildId: bindings.buildId };
  if (bindings.runnerId !== undefined) fields['runnerId'] = bindings.runnerId;
  if (bindings.attempt !== undefined) fields['attempt'] = bindings.attempt;
  return logger.child(fields);
}
