/**
 * The scheduler's durable state on the compacted state topic: builds, submissions and the
 * change-detection cursors. Loaded once at start (Bus.readAll), then written through.
 */
import type { Bus, OutgoingMessage } from '../../shared/bus/index.ts';
import type { Logger } from '../../shared/log/index.ts';
import type { CursorStore } from '../changes/cursors.ts';
import type { TrackedBuild } from '../core/tracked-build.ts';
import { decodeStateRecord, stateKey, type StateRecord } from './state-records.ts';

export interface LoadedState {
  builds: TrackedBuild[];
  submits: Array<[string, string[]]>;
  cursors: Map<string, string>;
  /** The last rebuild number of each build key. */
  rebuilds: Map<string, number>;
  skipped: number;
}

export interface StateStore {
  load(signal?: AbortSignal): Promise<LoadedState>;
  write(records: Array<{ key: string; value: StateRecord }>, signal?: AbortSignal): Promise<void>;
  /** The change-detection cursors, kept in memory and written through to the topic. */
  cursors: CursorStore;
}

export function createStateStore(options: { bus: Bus; topic: string; logger: Logger }): StateStore {
  const { bus, topic } = options;
  const cursorValues = new Map<string, string>();

  async function write(records: Array<{ key: string; value: StateRecord }>, signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    const messages: OutgoingMessage[] = records.map((r) => ({ key: r.key, value: r.value }));
    await bus.publish(topic, messages, signal);
  }

  return {
    async load(signal) {
      const { records, skipped } = await bus.readAll(topic, decodeStateRecord, signal);
      if (skipped > 0)
        options.logger.warn({ skipped, topic }, 'scheduler: state records that do not decode were skipped');
      // Latest value per key wins (compaction may not have run yet). Records of one key share a
      // partition, so offset order within the partition is the write order.
      const latest = new Map<string, StateRecord>();
      for (const record of records) if (record.key !== null) latest.set(record.key, record.value);
      const loaded: LoadedState = { builds: [], submits: [], cursors: new Map(), rebuilds: new Map(), skipped };
      for (const value of latest.values()) {
        switch (value.type) {
          case 'scheduler.build':
            loaded.builds.push(value.build);
            break;
          case 'scheduler.submit':
            loaded.submits.push([value.submitId, value.buildIds]);
            break;
          case 'scheduler.cursor':
            loaded.cursors.set(value.name, value.commit);
            break;
          case 'scheduler.rebuild':
            loaded.rebuilds.set(value.buildKey, value.number);
            break;
          default: {
            const unknown: never = value;
            throw new Error(`unknown state record ${String(unknown)}`);
          }
        }
      }
      for (const [name, commit] of loaded.cursors) cursorValues.set(name, commit);
      return loaded;
    },
    write,
    cursors: {
      get: (name) => cursorValues.get(name),
      async set(entries) {
        await write(
          entries.map((e) => ({
            key: stateKey.cursor(e.name),
            value: { v: 1, type: 'scheduler.cursor', name: e.name, commit: e.commit },
          })),
        );
        for (const e of entries) cursorValues.set(e.name, e.commit);
      },
    },
  };
}
