/** Rendering build records and artifacts for people (status, build --wait, artifacts). Pure. */
import type { Artifact, BuildRecord, Durations } from '../../shared/messages/index.ts';

/** 950 -> `950ms`, 1234 -> `1.2s`, 75000 -> `1m15s`, 3_900_000 -> `1h05m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** 512 -> `512 B`, 2048 -> `2.0 KiB`, 5 * 2**20 -> `5.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const PHASES = ['checkout', 'buildroot', 'build', 'upload'] as const satisfies ReadonlyArray<keyof Durations>;

/** `checkout 1.2s  buildroot 3.0s  build 10.0s  upload 450ms`, phases without a time left out. */
export function formatDurations(durations: Durations): string {
  return PHASES.flatMap((phase) => {
    const ms = durations[phase];
    return ms === undefined ? [] : [`${phase} ${formatDuration(ms)}`];
  }).join('  ');
}

/** One artifact: `hello_1.0_amd64.deb  deb  2.0 KiB  sha256 <hex>`. */
export function formatArtifactLine(artifact: Artifact): string {
  return `${artifact.name}  ${artifact.kind}  ${formatBytes(artifact.size)}  sha256 ${artifact.sha256}`;
}

/** The block `status` prints for one build. */
export function formatRecord(record: BuildRecord): string[] {
  const lines = [`${record.buildKey}  ${record.state}`];
  const field = (name: string, value: string): void => void lines.push(`  ${name.padEnd(10)}${value}`.trimEnd());
  field('build', record.buildId);
  field('attempt', String(record.attempt));
  if (record.runnerId) field('runner', record.runnerId);
  if (record.commit) field('commit', record.commit);
  if (record.submitId) field('submit', record.submitId);
  field('times', `created ${record.createdAt}, updated ${record.updatedAt}`);
  if (record.durations && formatDurations(record.durations) !== '')
    field('durations', formatDurations(record.durations));
  if (record.error) field('error', `[${record.error.code}] ${record.error.message}`);
  if (record.reason) field('reason', record.reason);
  if (record.waitingFor && record.waitingFor.length > 0) field('waits for', record.waitingFor.join(', '));
  if (record.rebuild) {
    const because = record.rebuild.because.map((b) => `${b.project} (build ${b.buildId})`).join(', ');
    field('rebuild', `#${record.rebuild.number}, against new builds of ${because}`);
  }
  if (record.builtAgainst && record.builtAgainst.length > 0) {
    field('built against', '');
    for (const b of record.builtAgainst)
      lines.push(`    ${b.package} ${b.version}${b.buildId ? ` (build ${b.buildId})` : ''}`);
  }
  if (record.repo) field('repo', `${record.repo.url} (version ${record.repo.version})`);
  if (record.artifacts.length > 0) {
    field('artifacts', '');
    for (const artifact of record.artifacts) lines.push(`    ${formatArtifactLine(artifact)}`);
  }
  return lines;
}

/** Blocks of several builds, separated by a blank line; a note when there are none. */
export function formatRecords(records: readonly BuildRecord[]): string {
  if (records.length === 0) return 'no builds\n';
  return `${records.map((record) => formatRecord(record).join('\n')).join('\n\n')}\n`;
}

/** The last `count` lines of a text (a trailing newline does not count as an empty line). */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return count <= 0 ? [] : lines.slice(-count);
}
