import { BuildfleetError } from '../../errors/index.ts';
import type { RawRecord } from '../record-processor.ts';
import { createPartitioner } from '../partition.ts';
import type { TopicSpec } from '../topic-spec.ts';

/** One topic of the embedded bus: an append-only log per partition, kept in memory. */
export class EmbeddedTopic {
  readonly partitions: RawRecord[][] = [];
  private readonly waiters = new Set<() => void>();
  // Kafka's default partitioning (murmur2 of the key), so keys land on the same partitions as with Kafka.
  private readonly partitioner = createPartitioner();

  constructor(public spec: TopicSpec) {
    this.grow(spec.partitions);
  }

  grow(partitions: number): void {
    while (this.partitions.length < partitions) this.partitions.push([]);
  }

  append(message: { key: string | null; value: Buffer; headers: Record<string, string> }): RawRecord {
    const partition = this.partitioner(message.key, this.partitions.length);
    const log = this.partitions[partition];
    if (!log) throw new BuildfleetError('internal', `embedded bus: no partition ${partition} in ${this.spec.name}`);
    const record: RawRecord = {
      topic: this.spec.name,
      partition,
      offset: String(log.length),
      key: message.key,
      value: message.value,
      headers: message.headers,
      timestamp: Date.now(),
    };
    log.push(record);
    for (const wake of this.waiters) wake();
    return record;
  }

  end(partition: number): number {
    return this.partitions[partition]?.length ?? 0;
  }

  /** Calls `wake` whenever a record is appended, until the returned function is called. */
  watch(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }
}
