/**
 * Least privilege as code: the Kafka ACLs each role of a cluster needs (`buildfleet acls plan`
 * prints them, `acls apply` creates them). Pure: derived from the topic and consumer group names
 * (shared/messages/topics.ts) and from what each service publishes and reads, in message types;
 * a unit test checks the topics against the registry's routes.
 *
 * What the bus adapter does on Kafka, and what it needs for it:
 * - publish: WRITE on the topic (implies DESCRIBE: the topic-exists check lists topics). The
 *   producer is idempotent, no transactions: since Kafka 3.0 (KIP-679) WRITE on a topic is enough,
 *   no IDEMPOTENT_WRITE on the cluster.
 * - consume (shared queue) and serve: READ on the topic and on the group (LITERAL name).
 * - subscribe (private group `<name>.<uuid>`) and request's reply subscription: READ on the topic,
 *   READ and DELETE on the group name as a PREFIXED pattern (the group is removed on close).
 * - readAll (scheduler state): READ and DELETE on the throw-away groups `<prefix>.read-all.*`.
 * - every consumer may dead-letter a record it cannot read: WRITE on `<prefix>.deadletter`.
 *
 * No role for the push webhook: it is served by the scheduler process (scheduler/changes/
 * webhook.ts; in `buildfleet up` on the info service's port) and only pokes the scheduler's git
 * watcher, which publishes submissions with the scheduler's principal. `topics ensure` and
 * `acls apply` run as an administrator (a super user, or CREATE/ALTER on the cluster).
 */
import { consumerGroupNames, topicNames, type TopicNames } from '../messages/topics.ts';
import type { MessageType } from '../messages/registry.ts';
import { replyGroupName } from './request-reply.ts';
import type { TopicsConfig } from './topic-plan.ts';

export const DEFAULT_PRINCIPAL_PREFIX = 'buildfleet-';

export const AclRoles = ['scheduler', 'runner', 'collector', 'info-service', 'cli', 'cli-readonly'] as const;
export type AclRole = (typeof AclRoles)[number];

export type AclResourceType = 'topic' | 'group';
export type AclPatternType = 'literal' | 'prefixed';
export type AclOperation = 'read' | 'write' | 'describe' | 'delete';

/** One ACL: the principal may do the operation on the resource (always ALLOW, any host). */
export interface AclEntry {
  principal: string;
  resourceType: AclResourceType;
  resourceName: string;
  patternType: AclPatternType;
  operation: AclOperation;
}

/** The ACLs of one principal: a role, and for runners one per runner group. */
export interface RolePlan {
  role: AclRole;
  /** The runner group, for the runner role. */
  runnerGroup?: string;
  /** `User:<principalPrefix><role>` (`User:<principalPrefix>runner-<group>` for runners). */
  principal: string;
  entries: AclEntry[];
}

export interface AclPlanOptions {
  topicPrefix: string;
  /** @default 'buildfleet-' */
  principalPrefix?: string;
  runnerGroups: TopicsConfig['runnerGroups'];
}

/** What a role does on the bus; message types are turned into their topics by `topicsOfType`. */
interface RoleTraffic {
  writes: readonly MessageType[];
  reads: readonly MessageType[];
  /** The scheduler's compacted state topic (its records are no bus message type). */
  state?: boolean;
  /** Shared-queue groups, LITERAL. */
  queues: readonly string[];
  /** Private groups (subscribe, reply subscriptions, read-all): PREFIXED, READ and DELETE. */
  privateGroups: readonly string[];
  /** Groups whose members the role counts (DESCRIBE). */
  describesGroups?: readonly string[];
}

/**
 * What each service publishes and reads (grep `publish`, `consume`, `subscribe`, `serve`,
 * `request`, `readAll`, `groupMembers` in scheduler/, runner/, collector/, info-service/,
 * cli/client/kafka-client.ts).
 */
export const writersOf: Record<MessageType, readonly AclRole[]> = {
  // The registry's types: a new type does not compile until its writers are named here.
  'build.submit': ['scheduler', 'info-service', 'cli'],
  'build.request': ['scheduler'],
  'build.event': ['scheduler', 'runner', 'collector'],
  'info.query': ['cli', 'cli-readonly'],
  'info.answer': ['info-service'],
  'control.cancel': ['scheduler', 'info-service', 'cli'],
  'log.chunk': ['runner'],
  deadletter: ['scheduler', 'runner', 'collector', 'info-service', 'cli', 'cli-readonly'],
};

/** The topics a message type goes to (the registry's `messageRoutes`, for every runner group). */
export function topicsOfType(type: MessageType, names: TopicNames, requestTopics: readonly string[]): string[] {
  switch (type) {
    case 'build.submit':
      return [names.submit];
    case 'build.request':
      return [...requestTopics];
    case 'build.event':
      return [names.events];
    case 'info.query':
      return [names.infoRequests];
    case 'info.answer':
      return [names.infoResponses];
    case 'control.cancel':
      return [names.control];
    case 'log.chunk':
      return [names.logs];
    case 'deadletter':
      return [names.deadletter];
    default: {
      const unknown: never = type;
      throw new Error(`no topic for message type ${String(unknown)}`);
    }
  }
}

/** Pure: the ACLs of every role, runners once per runner group. */
export function planAcls(options: AclPlanOptions): RolePlan[] {
  const prefix = options.principalPrefix ?? DEFAULT_PRINCIPAL_PREFIX;
  const names = topicNames(options.topicPrefix);
  const groups = consumerGroupNames(options.topicPrefix);
  const pools = options.runnerGroups.flatMap((g) => g.arches.map((arch) => ({ group: g.name, arch })));
  const allRequestTopics = pools.map((p) => names.requests(p.group, p.arch));
  const writesOf = (role: AclRole): MessageType[] =>
    (Object.keys(writersOf) as MessageType[]).filter((type) => writersOf[type].includes(role));
  // A subscriber's group is `<name>.<uuid>`: the PREFIXED pattern is the name and its dot.
  const subscriber = (name: string): string => `${name}.`;
  // request() reads the replies in a private group named after the reply topic.
  const replies = replyGroupName(names.infoResponses, '');

  const traffic = (role: AclRole, runnerGroup?: string): RoleTraffic & { requestTopics: readonly string[] } => {
    switch (role) {
      case 'scheduler':
        return {
          writes: writesOf(role),
          reads: ['build.submit', 'build.event', 'control.cancel'],
          state: true,
          queues: [groups.scheduler, groups.schedulerEvents, groups.schedulerControl],
          privateGroups: [subscriber(groups.readAll)],
          describesGroups: pools.map((p) => groups.runner(p.group, p.arch)),
          requestTopics: allRequestTopics,
        };
      case 'runner': {
        const own = pools.filter((p) => p.group === runnerGroup);
        return {
          writes: writesOf(role),
          reads: ['build.request', 'control.cancel'],
          queues: own.map((p) => groups.runner(p.group, p.arch)),
          privateGroups: [groups.runnerControl(runnerGroup ?? '', '')],
          requestTopics: own.map((p) => names.requests(p.group, p.arch)),
        };
      }
      case 'collector':
        return {
          writes: writesOf(role),
          reads: ['build.event'],
          queues: [groups.collector],
          privateGroups: [],
          requestTopics: [],
        };
      case 'info-service':
        return {
          writes: writesOf(role),
          reads: ['build.event', 'log.chunk', 'info.query'],
          queues: [groups.info],
          privateGroups: [groups.infoEvents(''), groups.infoLogs('')],
          requestTopics: [],
        };
      case 'cli':
      case 'cli-readonly':
        return {
          writes: writesOf(role),
          reads: ['build.event', 'log.chunk', 'info.answer'],
          queues: [],
          privateGroups: [groups.cli(''), replies],
          requestTopics: [],
        };
      default: {
        const unknown: never = role;
        throw new Error(`unknown role ${String(unknown)}`);
      }
    }
  };

  const planOf = (role: AclRole, runnerGroup?: string): RolePlan => {
    const principal = `User:${prefix}${role}${runnerGroup === undefined ? '' : `-${runnerGroup}`}`;
    const t = traffic(role, runnerGroup);
    const entries: AclEntry[] = [];
    const add = (
      resourceType: AclResourceType,
      resourceName: string,
      patternType: AclPatternType,
      operation: AclOperation,
    ): void => {
      const exists = entries.some(
        (e) =>
          e.resourceType === resourceType &&
          e.resourceName === resourceName &&
          e.patternType === patternType &&
          e.operation === operation,
      );
      if (!exists) entries.push({ principal, resourceType, resourceName, patternType, operation });
    };
    const topicsOf = (types: readonly MessageType[]): string[] =>
      types.flatMap((type) => topicsOfType(type, names, t.requestTopics));
    for (const topic of topicsOf(t.reads)) add('topic', topic, 'literal', 'read');
    if (t.state) add('topic', names.state, 'literal', 'read');
    for (const topic of topicsOf(t.writes)) add('topic', topic, 'literal', 'write');
    if (t.state) add('topic', names.state, 'literal', 'write');
    for (const group of t.queues) add('group', group, 'literal', 'read');
    for (const group of t.privateGroups) {
      add('group', group, 'prefixed', 'read');
      add('group', group, 'prefixed', 'delete');
    }
    for (const group of t.describesGroups ?? []) add('group', group, 'literal', 'describe');
    return { role, ...(runnerGroup === undefined ? {} : { runnerGroup }), principal, entries };
  };

  return AclRoles.flatMap((role) =>
    role === 'runner' ? options.runnerGroups.map((g) => planOf(role, g.name)) : [planOf(role)],
  );
}
