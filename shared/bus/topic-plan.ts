import { Type, type Static } from '@sinclair/typebox';
import { topicNames } from '../messages/topics.ts';
import type { TopicSpec } from './topic-spec.ts';

const HOUR_MS = 3_600_000;

const Retention = (hours: number, description: string) =>
  Type.Number({ minimum: -1, default: hours, description: `${description} (hours; -1 keeps forever)` });

/** How the cluster's topics are laid out; `buildfleet topics ensure` makes Kafka match it. */
export const TopicsConfig = Type.Object({
  /** Replicas per partition: 1 on one broker, 3 in production. */
  replication: Type.Integer({ minimum: 1, default: 1 }),
  /** Runner groups and the arches they build; partitions bound how many runners share a request topic. */
  runnerGroups: Type.Array(
    Type.Object({
      name: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
      arches: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), { minItems: 1 }),
      partitions: Type.Integer({ minimum: 1, default: 8 }),
    }),
    { default: [{ name: 'default', arches: ['x86_64'], partitions: 8 }] },
  ),
  partitions: Type.Object(
    {
      submit: Type.Integer({ minimum: 1, default: 3 }),
      events: Type.Integer({ minimum: 1, default: 6 }),
      logs: Type.Integer({ minimum: 1, default: 6 }),
      control: Type.Integer({ minimum: 1, default: 1 }),
      info: Type.Integer({ minimum: 1, default: 3 }),
      state: Type.Integer({ minimum: 1, default: 3 }),
      deadletter: Type.Integer({ minimum: 1, default: 1 }),
    },
    { default: {} },
  ),
  retentionHours: Type.Object(
    {
      submit: Retention(7 * 24, 'submissions'),
      requests: Retention(7 * 24, 'build requests'),
      // The info service rebuilds its view from the events on restart: keep them long.
      events: Retention(30 * 24, 'build events'),
      logs: Retention(7 * 24, 'log chunks'),
      control: Retention(24, 'cancel commands'),
      info: Retention(1, 'info queries and answers'),
      deadletter: Retention(30 * 24, 'dead letters'),
    },
    { default: {} },
  ),
});
export type TopicsConfig = Static<typeof TopicsConfig>;

/** Pure: every topic of DESIGN.md §2 with its partitions, replication and retention. */
export function plannedTopics(prefix: string, config: TopicsConfig): TopicSpec[] {
  const names = topicNames(prefix);
  const base: Record<string, string> =
    config.replication >= 3 ? { 'min.insync.replicas': String(config.replication - 1) } : {};
  const spec = (name: string, partitions: number, extra: Record<string, string>): TopicSpec => ({
    name,
    partitions,
    replication: config.replication,
    config: { ...base, ...extra },
  });
  const retention = (hours: number): Record<string, string> => ({
    'cleanup.policy': 'delete',
    'retention.ms': String(hours < 0 ? -1 : Math.round(hours * HOUR_MS)),
  });
  const r = config.retentionHours;
  const p = config.partitions;
  return [
    spec(names.submit, p.submit, retention(r.submit)),
    ...config.runnerGroups.flatMap((group) =>
      group.arches.map((arch) => spec(names.requests(group.name, arch), group.partitions, retention(r.requests))),
    ),
    spec(names.events, p.events, retention(r.events)),
    spec(names.logs, p.logs, retention(r.logs)),
    spec(names.control, p.control, retention(r.control)),
    spec(names.infoRequests, p.info, retention(r.info)),
    spec(names.infoResponses, p.info, retention(r.info)),
    // Compacted: the latest value per key (lease, last built commit, cursor) is kept for ever.
    spec(names.state, p.state, { 'cleanup.policy': 'compact' }),
    spec(names.deadletter, p.deadletter, retention(r.deadletter)),
  ];
}
