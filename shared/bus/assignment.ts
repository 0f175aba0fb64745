export interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * Pure: spreads the partitions of the topics each member subscribes to over the members,
 * round robin in member id order, so that every partition has exactly one owner and the
 * members' shares differ by at most one per topic.
 */
export function assignPartitions(
  members: ReadonlyArray<{ id: string; topics: readonly string[] }>,
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const result = new Map<string, TopicPartition[]>();
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const member of sorted) result.set(member.id, []);
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort();
  let turn = 0;
  for (const topic of topics) {
    const takers = sorted.filter((m) => m.topics.includes(topic));
    const count = partitionCounts.get(topic) ?? 0;
    for (let partition = 0; partition < count && takers.length > 0; partition++) {
      const owner = takers[turn % takers.length];
      turn++;
      if (owner) result.get(owner.id)?.push({ topic, partition });
    }
  }
  return result;
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}
