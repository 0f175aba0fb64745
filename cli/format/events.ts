/** Event filtering and the one-line rendering of a build event (watch, build --wait). Pure. */
import type { BuildEvent } from '../../shared/messages/index.ts';
import type { EventFilter } from '../client/port.ts';

/** Every field the filter gives must match. */
export function eventMatches(filter: EventFilter, event: BuildEvent): boolean {
  if (filter.project !== undefined && event.project !== filter.project) return false;
  if (filter.buildId !== undefined && event.buildId !== filter.buildId) return false;
  if (filter.submitId !== undefined && event.submitId !== filter.submitId) return false;
  return true;
}

export interface LineOptions {
  /** Print times in UTC (with a Z) instead of the local time zone. @default false */
  utc?: boolean;
  /** Pad the build key to this width, so that the columns of several builds line up. @default 0 */
  keyWidth?: number;
}

/** `HH:MM:SS` of an ISO time, local or UTC; the input as it is when it is no date. */
export function clock(iso: string, options: LineOptions = {}): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number): string => String(n).padStart(2, '0');
  if (options.utc) return `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}Z`;
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** What to say after the state: the error, the reason, or where it was published. */
export function eventDetail(event: BuildEvent): string {
  if (event.error) return `[${event.error.code}] ${event.error.message}`;
  if (event.reason) return event.reason;
  if (event.repo) return `${event.repo.url} (version ${event.repo.version})`;
  return '';
}

/**
 * One line per state change:
 * `12:00:03  projects/demo/hello@bookworm.x86_64  building   attempt 1  runner-a  <reason or error>`
 */
export function formatEventLine(event: BuildEvent, options: LineOptions = {}): string {
  const parts = [
    clock(event.at, options),
    event.buildKey.padEnd(options.keyWidth ?? 0),
    event.state.padEnd(12),
    `attempt ${event.attempt}`,
    event.runnerId ?? '-',
  ];
  const detail = eventDetail(event);
  return (detail ? [...parts, detail] : parts).join('  ');
}
