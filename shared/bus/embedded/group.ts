import { assignPartitions, tpKey, type TopicPartition } from '../assignment.ts';

/** What the group needs from one of its members. */
export interface GroupMember {
  readonly id: string;
  readonly topics: readonly string[];
  /** Stops delivering from these partitions and waits until the record in hand is done and committed. */
  revoke(partitions: TopicPartition[]): Promise<void>;
  assign(partitions: TopicPartition[]): void;
}

/**
 * A consumer group of the embedded bus: members, their assignment and the committed offsets.
 * Rebalances run one at a time; revoked partitions are released (in-flight record finished and
 * committed) before anyone else gets them, so a record goes to exactly one member.
 */
export class EmbeddedGroup {
  private readonly members = new Map<string, GroupMember>();
  private readonly assignments = new Map<string, TopicPartition[]>();
  private readonly committed = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    private readonly partitionCounts: () => ReadonlyMap<string, number>,
  ) {}

  get size(): number {
    return this.members.size;
  }

  join(member: GroupMember): Promise<void> {
    return this.serialise(async () => {
      this.members.set(member.id, member);
      await this.rebalance();
    });
  }

  leave(member: GroupMember): Promise<void> {
    return this.serialise(async () => {
      if (!this.members.delete(member.id)) return;
      this.assignments.delete(member.id);
      await this.rebalance();
    });
  }

  /** Called when topics grow: partitions are spread again. */
  refresh(): Promise<void> {
    return this.serialise(() => this.rebalance());
  }

  committedOffset(tp: TopicPartition): number | undefined {
    return this.committed.get(tpKey(tp));
  }

  commit(tp: TopicPartition, nextOffset: number): void {
    const key = tpKey(tp);
    if ((this.committed.get(key) ?? -1) < nextOffset) this.committed.set(key, nextOffset);
  }

  /** Sets the start offset of partitions that have none committed yet. */
  initialise(tp: TopicPartition, offset: number): void {
    const key = tpKey(tp);
    if (!this.committed.has(key)) this.committed.set(key, offset);
  }

  private serialise(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async rebalance(): Promise<void> {
    const members = [...this.members.values()];
    const next = assignPartitions(members, this.partitionCounts());
    await Promise.all(
      members.map((member) => {
        const keep = new Set((next.get(member.id) ?? []).map(tpKey));
        const revoked = (this.assignments.get(member.id) ?? []).filter((tp) => !keep.has(tpKey(tp)));
        return member.revoke(revoked);
      }),
    );
    for (const member of members) {
      const had = new Set((this.assignments.get(member.id) ?? []).map(tpKey));
      const mine = next.get(member.id) ?? [];
      this.assignments.set(member.id, mine);
      member.assign(mine.filter((tp) => !had.has(tpKey(tp))));
    }
  }
}
