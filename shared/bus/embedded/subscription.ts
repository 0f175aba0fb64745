import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log/index.ts';
import { tpKey, type TopicPartition } from '../assignment.ts';
import type { ConsumeOptions, OutgoingMessage, Subscription } from '../port.ts';
import { processRecord, type RawRecord } from '../record-processor.ts';
import type { GroupMember } from './group.ts';
import type { EmbeddedGroup } from './group.ts';
import type { EmbeddedTopic } from './log.ts';

interface Deps {
  group: EmbeddedGroup;
  topics: Map<string, EmbeddedTopic>;
  deadletterTopic: string;
  publish: (topic: string, message: OutgoingMessage) => Promise<void>;
  logger: Logger;
  /** Start offset for partitions the group has no committed offset for. */
  start: 'earliest' | 'latest';
}

const RETRY_AFTER_FAILURE_MS = 200;

/** One member of an embedded consumer group: a delivery loop over its assigned partitions. */
export class EmbeddedSubscription<T> implements Subscription, GroupMember {
  readonly id = randomUUID();
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly positions = new Map<string, { tp: TopicPartition; next: number }>();
  private inFlight: { key: string; done: Promise<void> } | null = null;
  private pausedNow = false;
  private closing: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private woken = false;
  private wake: () => void = () => undefined;
  private turn = 0;
  private joinCount = 0;
  private loop: Promise<void> = Promise.resolve();
  private readonly unwatch: Array<() => void> = [];

  constructor(
    private readonly options: ConsumeOptions<T>,
    private readonly deps: Deps,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  get topics(): readonly string[] {
    return this.options.topics;
  }
  get group(): string {
    return this.deps.group.id;
  }
  get memberId(): string {
    return this.id;
  }
  get joins(): number {
    return this.joinCount;
  }
  get paused(): boolean {
    return this.pausedNow;
  }

  async start(): Promise<void> {
    for (const name of this.options.topics) {
      const topic = this.deps.topics.get(name);
      if (topic) this.unwatch.push(topic.watch(() => this.signalWake()));
    }
    this.loop = this.run();
    await this.deps.group.join(this);
  }

  pause(): void {
    this.pausedNow = true;
  }

  resume(): void {
    this.pausedNow = false;
    this.signalWake();
  }

  assignment(): TopicPartition[] {
    return [...this.positions.values()].map((p) => p.tp);
  }

  assign(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const end = this.deps.topics.get(tp.topic)?.end(tp.partition) ?? 0;
      this.deps.group.initialise(tp, this.deps.start === 'earliest' ? 0 : end);
      this.positions.set(tpKey(tp), { tp, next: this.deps.group.committedOffset(tp) ?? 0 });
    }
    this.joinCount++;
    this.markReady();
    this.signalWake();
  }

  async revoke(partitions: TopicPartition[]): Promise<void> {
    const keys = new Set(partitions.map(tpKey));
    for (const key of keys) this.positions.delete(key);
    const current = this.inFlight;
    if (current && keys.has(current.key)) await current.done;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort(new Error('subscription closed'));
      this.signalWake();
      await this.loop;
      for (const stop of this.unwatch) stop();
      await this.deps.group.leave(this);
      this.markReady();
    })();
    return this.closing;
  }

  private signalWake(): void {
    this.woken = true;
    this.wake();
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const next = this.pausedNow ? undefined : this.pickNext();
      if (next) {
        await this.deliver(next.key, next.tp, next.record);
        continue;
      }
      if (!this.woken) await new Promise<void>((resolve) => (this.wake = resolve));
      this.woken = false;
    }
  }

  private pickNext(): { key: string; tp: TopicPartition; record: RawRecord } | undefined {
    const owned = [...this.positions.entries()];
    for (let i = 0; i < owned.length; i++) {
      const entry = owned[(this.turn + i) % owned.length];
      if (!entry) continue;
      const [key, position] = entry;
      const record = this.deps.topics.get(position.tp.topic)?.partitions[position.tp.partition]?.[position.next];
      if (record) {
        this.turn = (this.turn + i + 1) % Math.max(1, owned.length);
        return { key, tp: position.tp, record };
      }
    }
    return undefined;
  }

  private async deliver(key: string, tp: TopicPartition, record: RawRecord): Promise<void> {
    const done = (async () => {
      try {
        await processRecord(record, this.options, {
          group: this.group,
          deadletterTopic: this.deps.deadletterTopic,
          publish: this.deps.publish,
          logger: this.deps.logger,
          signal: this.abort.signal,
        });
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.deps.logger.error(
          { err: error, topic: tp.topic, partition: tp.partition },
          'embedded bus: delivery failed',
        );
        await sleep(RETRY_AFTER_FAILURE_MS);
        return;
      }
      const nextOffset = Number(record.offset) + 1;
      this.deps.group.commit(tp, nextOffset);
      const position = this.positions.get(key);
      if (position) position.next = nextOffset;
    })();
    this.inFlight = { key, done };
    await done;
    this.inFlight = null;
  }
}
