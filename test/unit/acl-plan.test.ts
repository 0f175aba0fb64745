import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planAcls, writersOf, type AclEntry, type RolePlan } from '../../shared/bus/acl-plan.ts';
import { replyGroupName } from '../../shared/bus/request-reply.ts';
import { plannedTopics } from '../../shared/bus/topic-plan.ts';
import { consumerGroupNames, MessageTypes, routeOf, topicNames } from '../../shared/messages/index.ts';
import { formatPlan } from '../../cli/commands/acls.ts';
import { messageExamples } from '../fixtures/messages.ts';

const runnerGroups = [
  { name: 'default', arches: ['x86_64', 'aarch64'], partitions: 8 },
  { name: 'arm', arches: ['aarch64'], partitions: 2 },
];
const plan = planAcls({ topicPrefix: 'bf', principalPrefix: 'p-', runnerGroups });
const names = topicNames('bf');
const groups = consumerGroupNames('bf');

const short = (e: AclEntry): string =>
  `${e.operation} ${e.resourceType}${e.patternType === 'prefixed' ? ' prefixed' : ''} ${e.resourceName}`;
const principal = (role: string): RolePlan => {
  const found = plan.find((r) => r.principal === `User:p-${role}`);
  assert.ok(found, `a principal for ${role}`);
  return found;
};
const grants = (e: AclEntry, operation: string, resourceType: string, name: string): boolean =>
  e.operation === operation &&
  e.resourceType === resourceType &&
  (e.patternType === 'literal' ? e.resourceName === name : name.startsWith(e.resourceName));
const allows = (role: string, operation: string, resourceType: string, name: string): boolean =>
  principal(role).entries.some((e) => grants(e, operation, resourceType, name));

describe('the ACL plan', () => {
  it('has one principal per role, runners one per runner group', () => {
    assert.deepEqual(
      plan.map((r) => r.principal),
      [
        'User:p-scheduler',
        'User:p-runner-default',
        'User:p-runner-arm',
        'User:p-collector',
        'User:p-info-service',
        'User:p-cli',
        'User:p-cli-readonly',
      ],
    );
    assert.equal(planAcls({ topicPrefix: 'bf', runnerGroups })[0]?.principal, 'User:buildfleet-scheduler');
  });

  it('gives a runner its own request topics and groups, the control topic, and writes of events, logs and dead letters', () => {
    assert.deepEqual(principal('runner-default').entries.map(short), [
      'read topic bf.requests.default.x86_64',
      'read topic bf.requests.default.aarch64',
      'read topic bf.control',
      'write topic bf.events',
      'write topic bf.logs',
      'write topic bf.deadletter',
      'read group bf.runner.default.x86_64',
      'read group bf.runner.default.aarch64',
      'read group prefixed bf.runner.default.control.',
      'delete group prefixed bf.runner.default.control.',
    ]);
    assert.equal(allows('runner-arm', 'read', 'topic', names.requests('default', 'aarch64')), false);
    assert.equal(allows('runner-arm', 'read', 'group', groups.runner('default', 'aarch64')), false);
    assert.equal(allows('runner-arm', 'read', 'group', `${groups.runnerControl('default', 'r1')}.u`), false);
  });

  it('pins the scheduler, collector, info service and CLI', () => {
    assert.deepEqual(principal('scheduler').entries.map(short), [
      'read topic bf.submit',
      'read topic bf.events',
      'read topic bf.control',
      'read topic bf.state',
      'write topic bf.submit',
      'write topic bf.requests.default.x86_64',
      'write topic bf.requests.default.aarch64',
      'write topic bf.requests.arm.aarch64',
      'write topic bf.events',
      'write topic bf.control',
      'write topic bf.deadletter',
      'write topic bf.state',
      'read group bf.scheduler',
      'read group bf.scheduler.events',
      'read group bf.scheduler.control',
      'read group prefixed bf.read-all.',
      'delete group prefixed bf.read-all.',
      'describe group bf.runner.default.x86_64',
      'describe group bf.runner.default.aarch64',
      'describe group bf.runner.arm.aarch64',
    ]);
    assert.deepEqual(principal('collector').entries.map(short), [
      'read topic bf.events',
      'write topic bf.events',
      'write topic bf.deadletter',
      'read group bf.collector',
    ]);
    assert.deepEqual(principal('info-service').entries.map(short), [
      'read topic bf.events',
      'read topic bf.logs',
      'read topic bf.info.requests',
      'write topic bf.submit',
      'write topic bf.info.responses',
      'write topic bf.control',
      'write topic bf.deadletter',
      'read group bf.info',
      'read group prefixed bf.info-service.',
      'delete group prefixed bf.info-service.',
      'read group prefixed bf.info-service.logs.',
      'delete group prefixed bf.info-service.logs.',
    ]);
    const cliReads = [
      'read topic bf.events',
      'read topic bf.logs',
      'read topic bf.info.responses',
      'read group prefixed bf.cli.',
      'delete group prefixed bf.cli.',
      'read group prefixed bf.info.responses.reply.',
      'delete group prefixed bf.info.responses.reply.',
    ];
    assert.deepEqual(
      principal('cli').entries.map(short).sort(),
      [
        ...cliReads,
        'write topic bf.submit',
        'write topic bf.info.requests',
        'write topic bf.control',
        'write topic bf.deadletter',
      ].sort(),
    );
    assert.deepEqual(
      principal('cli-readonly').entries.map(short).sort(),
      [...cliReads, 'write topic bf.info.requests', 'write topic bf.deadletter'].sort(),
    );
  });

  it('lets only the scheduler, the info service and the CLI submit, and only the scheduler dispatch', () => {
    const writers = (topic: string): string[] =>
      plan.filter((r) => r.entries.some((e) => e.operation === 'write' && e.resourceName === topic)).map((r) => r.role);
    assert.deepEqual(writers(names.submit), ['scheduler', 'info-service', 'cli']);
    for (const group of runnerGroups) {
      for (const arch of group.arches) assert.deepEqual(writers(names.requests(group.name, arch)), ['scheduler']);
    }
  });

  it("names every message type's topic as the registry routes it, for each of its writers", () => {
    for (const type of MessageTypes) {
      assert.ok(writersOf[type].length > 0, `${type} has writers`);
      for (const example of messageExamples[type]) {
        const { topic } = routeOf(names, example);
        for (const role of writersOf[type]) {
          const plans = plan.filter((r) => r.role === role);
          assert.ok(plans.length > 0);
          for (const p of plans) {
            assert.ok(
              p.entries.some((e) => e.operation === 'write' && e.resourceType === 'topic' && e.resourceName === topic),
              `${p.principal} may write ${type} to ${topic}`,
            );
          }
        }
      }
    }
  });

  it('covers every planned topic (a writer, and a reader but for dead letters) and nothing else', () => {
    const planned = plannedTopics('bf', {
      replication: 1,
      runnerGroups,
      partitions: { submit: 1, events: 1, logs: 1, control: 1, info: 1, state: 1, deadletter: 1 },
      retentionHours: { submit: 1, requests: 1, events: 1, logs: 1, control: 1, info: 1, deadletter: 1 },
    }).map((t) => t.name);
    const entries = plan.flatMap((r) => r.entries).filter((e) => e.resourceType === 'topic');
    for (const topic of planned) {
      assert.ok(
        entries.some((e) => e.resourceName === topic && e.operation === 'write'),
        `someone writes ${topic}`,
      );
      // Dead letters are read by operators (as administrators), not by a service.
      if (topic !== names.deadletter) {
        assert.ok(
          entries.some((e) => e.resourceName === topic && e.operation === 'read'),
          `someone reads ${topic}`,
        );
      }
    }
    assert.deepEqual(
      [...new Set(entries.map((e) => e.resourceName))].filter((t) => !planned.includes(t)),
      [],
    );
    assert.ok(
      entries.every((e) => e.patternType === 'literal'),
      'topics are named exactly',
    );
  });

  it('lets every consumer group of the names module be joined by someone', () => {
    const instance = '.5b0c'; // subscribe() adds a unique suffix to a private group's name
    const joined = [
      groups.scheduler,
      groups.schedulerEvents,
      groups.schedulerControl,
      groups.collector,
      groups.info,
      groups.runner('arm', 'aarch64'),
      `${groups.runnerControl('arm', 'runner-1')}${instance}`,
      `${groups.infoEvents('info-1')}${instance}`,
      `${groups.infoLogs('info-1')}${instance}`,
      `${groups.cli('watch')}${instance}`,
      `${groups.readAll}${instance}`,
    ];
    assert.equal(joined.length, Object.keys(groups).length, 'one name per member of consumerGroupNames');
    joined.push(`${replyGroupName(names.infoResponses, 'bus-1')}${instance}`);
    for (const group of joined) {
      assert.ok(
        plan.some((r) => r.entries.some((e) => grants(e, 'read', 'group', group))),
        `someone may join ${group}`,
      );
    }
  });

  it('prints a table with one line per ACL', () => {
    const lines = formatPlan(plan).trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^PRINCIPAL\s+OPERATION\s+RESOURCE\s+PATTERN\s+NAME$/);
    assert.equal(lines.length, 1 + plan.flatMap((r) => r.entries).length);
    assert.match(lines[1] ?? '', /^User:p-scheduler\s+read\s+topic\s+literal\s+bf\.submit$/);
  });
});
