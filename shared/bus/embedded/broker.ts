import { BuildfleetError } from '../../errors/index.ts';
import { emptyReport, planTopicChange, type TopicReport, type TopicSpec } from '../topic-spec.ts';
import { EmbeddedGroup } from './group.ts';
import { EmbeddedTopic } from './log.ts';

/**
 * The in-process stand-in for a Kafka cluster: topics with partitioned logs and consumer
 * groups. Every embedded bus client attached to the same broker sees the same topics and
 * groups, so the services of `buildfleet up` talk to each other exactly as over Kafka.
 * Records are kept in memory for the life of the process.
 */
export class EmbeddedBroker {
  readonly topics = new Map<string, EmbeddedTopic>();
  private readonly groups = new Map<string, EmbeddedGroup>();

  topic(name: string): EmbeddedTopic {
    const topic = this.topics.get(name);
    if (!topic) {
      throw new BuildfleetError('topic-missing', `topic ${name} does not exist (buildfleet topics ensure creates it)`, {
        context: { topic: name },
      });
    }
    return topic;
  }

  group(id: string): EmbeddedGroup {
    let group = this.groups.get(id);
    if (!group) {
      group = new EmbeddedGroup(id, () => this.partitionCounts());
      this.groups.set(id, group);
    }
    return group;
  }

  /** Members of a group now; 0 for an unknown group. */
  groupSize(id: string): number {
    return this.groups.get(id)?.size ?? 0;
  }

  /** Forgets a private group once its last member has left. */
  dropGroupIfEmpty(id: string): void {
    if (this.groups.get(id)?.size === 0) this.groups.delete(id);
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<TopicReport> {
    const report = emptyReport();
    let grown = false;
    for (const spec of specs) {
      const existing = this.topics.get(spec.name);
      if (!existing) {
        this.topics.set(spec.name, new EmbeddedTopic(spec));
        report.created.push(spec.name);
        continue;
      }
      const plan = planTopicChange(spec, {
        partitions: existing.partitions.length,
        replication: existing.spec.replication,
        config: existing.spec.config,
      });
      if (plan.addPartitions !== null) {
        existing.grow(plan.addPartitions);
        grown = true;
      }
      existing.spec = {
        ...existing.spec,
        partitions: existing.partitions.length,
        config: { ...existing.spec.config, ...plan.setConfig },
      };
      if (plan.changes.length > 0) report.changed.push(...plan.changes);
      else report.unchanged.push(spec.name);
      report.warnings.push(...plan.warnings);
    }
    if (grown) await Promise.all([...this.groups.values()].map((g) => g.refresh()));
    return report;
  }

  private partitionCounts(): Map<string, number> {
    return new Map([...this.topics].map(([name, topic]) => [name, topic.partitions.length]));
  }
}
