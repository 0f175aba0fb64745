/**
 * `buildfleet acls apply` on Kafka: creates the planned ACLs (shared/bus/acl-plan.ts) that are not
 * there yet, with the kafkajs admin. Idempotent: what is present is reported, not created again.
 */
import kafkajs, { type Admin } from 'kafkajs';
import type { BusConfig } from '../../config/index.ts';
import { BuildfleetError } from '../../errors/index.ts';
import type { Logger } from '../../log/index.ts';
import type { AclEntry, AclOperation, AclPatternType, AclResourceType } from '../acl-plan.ts';
import { createKafkaClient } from './client.ts';
import { translateKafkaError, type BusOperation } from './errors.ts';
import { lazyClient } from './lazy-client.ts';

// kafkajs is CommonJS; its enums are values of the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export interface AclReport {
  created: AclEntry[];
  present: AclEntry[];
  /** ACLs of the plan's principals on the cluster that the plan does not have (left as they are). */
  extra: AclEntry[];
}

const RESOURCE: Record<AclResourceType, kafkajs.AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
};
const PATTERN: Record<AclPatternType, kafkajs.ResourcePatternTypes> = {
  literal: ResourcePatternTypes.LITERAL,
  prefixed: ResourcePatternTypes.PREFIXED,
};
const OPERATION: Record<AclOperation, kafkajs.AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  describe: AclOperationTypes.DESCRIBE,
  delete: AclOperationTypes.DELETE,
};

const keyOf = (e: AclEntry): string =>
  [e.principal, e.resourceType, e.patternType, e.resourceName, e.operation].join('\0');

/** Creates the entries missing on the cluster (ALLOW from any host); reports created, present and extra. */
export async function applyKafkaAcls(admin: Admin, entries: readonly AclEntry[]): Promise<AclReport> {
  const existing = await describeKafkaAcls(admin, new Set(entries.map((e) => e.principal)));
  const have = new Set(existing.map(keyOf));
  const planned = new Set(entries.map(keyOf));
  const created = entries.filter((e) => !have.has(keyOf(e)));
  if (created.length > 0) {
    await admin.createAcls({
      acl: created.map((e) => ({
        principal: e.principal,
        host: '*',
        resourceType: RESOURCE[e.resourceType],
        resourceName: e.resourceName,
        resourcePatternType: PATTERN[e.patternType],
        operation: OPERATION[e.operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    });
  }
  return {
    created,
    present: entries.filter((e) => have.has(keyOf(e))),
    extra: existing.filter((e) => !planned.has(keyOf(e))),
  };
}

/** The ALLOW ACLs of the principals on topics and groups, in the plan's terms (others are left out). */
export async function describeKafkaAcls(admin: Admin, principals: ReadonlySet<string>): Promise<AclEntry[]> {
  const answer = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ALLOW,
  });
  const resourceType = reverse(RESOURCE);
  const patternType = reverse(PATTERN);
  const operation = reverse(OPERATION);
  const found: AclEntry[] = [];
  for (const resource of answer.resources) {
    const type = resourceType.get(resource.resourceType);
    const pattern = patternType.get(resource.resourcePatternType);
    for (const acl of resource.acls) {
      const op = operation.get(acl.operation);
      if (!principals.has(acl.principal) || acl.host !== '*') continue;
      if (type === undefined || pattern === undefined || op === undefined) continue;
      found.push({
        principal: acl.principal,
        resourceType: type,
        resourceName: resource.resourceName,
        patternType: pattern,
        operation: op,
      });
    }
  }
  return found;
}

function reverse<K extends string, V>(table: Record<K, V>): Map<V, K> {
  return new Map((Object.entries(table) as Array<[K, V]>).map(([k, v]) => [v, k]));
}

/**
 * Runs `use` with a connected kafkajs admin on the bus settings of a config file (the same
 * connection settings `createBus` gives the Kafka adapter), and disconnects after.
 */
export async function withKafkaAdmin<T>(bus: BusConfig, logger: Logger, use: (admin: Admin) => Promise<T>): Promise<T> {
  if (bus.type !== 'kafka') {
    throw new BuildfleetError('config-invalid', `ACLs are Kafka's: bus.type is ${bus.type}, not kafka`, {
      context: { field: 'bus.type' },
    });
  }
  // The bus keys are the connection's (brokers, client id, security): as the Kafka adapter gets them.
  const identity = { brokers: bus.brokers, security: bus };
  const failure = (access: BusOperation['access']) => (error: unknown) =>
    translateKafkaError(error, identity, { access });
  const admin = lazyClient(() => createKafkaClient({ ...bus, retries: 2 }, logger).admin(), failure('connect'));
  try {
    // Describing and creating ACLs needs DESCRIBE and ALTER on the cluster: an administrator.
    return await use(await admin.connected()).catch((error: unknown) => {
      throw failure('alter')(error);
    });
  } finally {
    await admin.disconnect();
  }
}
