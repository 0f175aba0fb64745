/** What a topic should look like; `ensureTopics` makes the bus match it. */
export interface TopicSpec {
  name: string;
  partitions: number;
  replication: number;
  /** Kafka topic configuration (retention.ms, cleanup.policy, min.insync.replicas, ...). */
  config: Record<string, string>;
}

export interface TopicChange {
  topic: string;
  /** e.g. `partitions 1 -> 4`, `retention.ms 604800000 -> 86400000` */
  change: string;
}

export interface TopicReport {
  created: string[];
  changed: TopicChange[];
  unchanged: string[];
  /** Differences that cannot be applied in place (fewer partitions, another replication factor). */
  warnings: TopicChange[];
}

export function emptyReport(): TopicReport {
  return { created: [], changed: [], unchanged: [], warnings: [] };
}

/**
 * Pure: what to do to an existing topic so that it matches the spec.
 * `current.config` holds the topic's current values of the keys the spec names.
 */
export function planTopicChange(
  spec: TopicSpec,
  current: { partitions: number; replication: number; config: Record<string, string | undefined> },
): {
  addPartitions: number | null;
  setConfig: Record<string, string>;
  changes: TopicChange[];
  warnings: TopicChange[];
} {
  const changes: TopicChange[] = [];
  const warnings: TopicChange[] = [];
  let addPartitions: number | null = null;
  if (spec.partitions > current.partitions) {
    addPartitions = spec.partitions;
    changes.push({ topic: spec.name, change: `partitions ${current.partitions} -> ${spec.partitions}` });
  } else if (spec.partitions < current.partitions) {
    warnings.push({
      topic: spec.name,
      change: `has ${current.partitions} partitions, ${spec.partitions} wanted: Kafka cannot remove partitions`,
    });
  }
  if (spec.replication !== current.replication) {
    warnings.push({
      topic: spec.name,
      change: `replication ${current.replication}, ${spec.replication} wanted: change it with a partition reassignment`,
    });
  }
  const setConfig: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.config)) {
    const now = current.config[name];
    if (now !== value) {
      setConfig[name] = value;
      changes.push({ topic: spec.name, change: `${name} ${now ?? '(default)'} -> ${value}` });
    }
  }
  return { addPartitions, setConfig, changes, warnings };
}
