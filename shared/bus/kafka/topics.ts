import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Admin } from 'kafkajs';
import { BuildfleetError } from '../../errors/index.ts';
import { emptyReport, planTopicChange, type TopicReport, type TopicSpec } from '../topic-spec.ts';

// kafkajs is CommonJS; not every export is visible as a named ESM import.
const { ConfigResourceTypes } = kafkajs;

/**
 * Creates missing topics and aligns existing ones. Topic configuration is written with the
 * (non-incremental) AlterConfigs call, so the spec's keys are the whole managed set: keys set
 * by hand outside the spec go back to the broker default when a change is applied.
 */
export async function ensureKafkaTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<TopicReport> {
  const report = emptyReport();
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length > 0) {
    // kafkajs' waitForLeaders asks one broker once and often fails on KRaft while metadata
    // propagates; create without it and wait for leaders ourselves.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replication,
        configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForTopicLeaders(
      admin,
      missing.map((s) => s.name),
    );
    report.created.push(...missing.map((s) => s.name));
  }
  const present = specs.filter((s) => existing.has(s.name));
  if (present.length === 0) return report;
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((s) => ({
      type: ConfigResourceTypes.TOPIC,
      name: s.name,
      configNames: Object.keys(s.config),
    })),
  });
  for (const spec of present) {
    const topic = metadata.topics.find((t) => t.name === spec.name);
    const resource = configs.resources.find((r) => r.resourceName === spec.name);
    const current: Record<string, string | undefined> = {};
    for (const entry of resource?.configEntries ?? []) current[entry.configName] = entry.configValue;
    const plan = planTopicChange(spec, {
      partitions: topic?.partitions.length ?? 0,
      replication: topic?.partitions[0]?.replicas.length ?? spec.replication,
      config: current,
    });
    if (plan.addPartitions !== null) {
      await admin.createPartitions({ topicPartitions: [{ topic: spec.name, count: plan.addPartitions }] });
    }
    if (Object.keys(plan.setConfig).length > 0) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: spec.name,
            configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    }
    if (plan.changes.length > 0) report.changed.push(...plan.changes);
    else report.unchanged.push(spec.name);
    report.warnings.push(...plan.warnings);
  }
  return report;
}

/** Polls metadata until every partition of the topics has a leader and a full in-sync replica set. */
export async function waitForTopicLeaders(
  admin: Admin,
  topics: readonly string[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let problem = 'no metadata yet';
  while (Date.now() < deadline) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      const waiting = metadata.topics
        .filter((t) => t.partitions.some((p) => p.leader < 0 || p.isr.length < p.replicas.length))
        .map((t) => t.name);
      if (metadata.topics.length === topics.length && waiting.length === 0) return;
      problem = `partitions without a leader or full ISR in ${waiting.join(', ')}`;
    } catch (error) {
      // UNKNOWN_TOPIC_OR_PARTITION while the new topic's metadata propagates.
      problem = error instanceof Error ? error.message : String(error);
    }
    await sleep(100, undefined, { signal: options.signal });
  }
  throw new BuildfleetError('bus-timeout', `topics ${topics.join(', ')} not ready after ${timeoutMs} ms: ${problem}`, {
    context: { topics },
  });
}
