/**
 * Least privilege on a real secured Kafka (issue 14, part B): SCRAM users per role, TLS listeners
 * with a test CA, StandardAuthorizer. `buildfleet topics ensure` and `buildfleet acls apply` run
 * as the administrator; then every service runs on its own principal and a noop build submitted
 * by the CLI user's principal is published; a runner cannot submit nor read another runner
 * group's requests; a read-only CLI principal cannot submit.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planAcls, type AclEntry } from '../../shared/bus/acl-plan.ts';
import { applyKafkaAcls, withKafkaAdmin, type AclReport } from '../../shared/bus/kafka/acls.ts';
import type { Bus } from '../../shared/bus/index.ts';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { BusConfig, BusSecurity } from '../../shared/config/index.ts';
import { consumerGroupNames, topicNames } from '../../shared/messages/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { startCli } from '../harness/cli-process.ts';
import { noopPackage, startNoopCluster, type NoopCluster } from '../harness/noop-cluster.ts';
import { startSecureBroker } from '../harness/secure-kafka.ts';
import { suiteTempDir } from '../harness/temp-files.ts';

const PREFIX = `acl${randomUUID().slice(0, 6)}`;
// The runner groups of the noop cluster's topics.
const RUNNER_GROUPS = [
  { name: 'default', arches: ['x86_64'], partitions: 2 },
  { name: 'arm', arches: ['aarch64'], partitions: 1 },
  { name: 'kill', arches: ['x86_64'], partitions: 1 },
];
const TOPICS = {
  replication: 1,
  runnerGroups: RUNNER_GROUPS,
  partitions: { submit: 2, events: 2, logs: 2, control: 1, info: 1, state: 1, deadletter: 1 },
  retentionHours: { submit: 1, requests: 1, events: 1, logs: 1, control: 1, info: 1, deadletter: 1 },
};
const plan = planAcls({ topicPrefix: PREFIX, runnerGroups: RUNNER_GROUPS });
const user = (role: string): string => `buildfleet-${role}`;
/** The clear error of a principal its ACLs refuse (shared/bus/kafka/errors.ts). */
const refused = (principal: string, what: RegExp) => (error: unknown) => {
  assert.ok(error instanceof BuildfleetError, String(error));
  assert.equal(error.code, 'bus-not-authorised', error.message);
  assert.match(error.message, new RegExp(`^principal '${principal}' may not `));
  assert.match(error.message, what);
  return true;
};

const broker = await startSecureBroker({ users: ['admin', ...plan.map((r) => r.principal.slice('User:'.length))] });
const names = topicNames(PREFIX);
const groups = consumerGroupNames(PREFIX);
const logger = createLogger({ name: 'bus-acls-test', level: 'silent' });

function security(name: string): BusSecurity {
  const config: BusConfig = broker.busConfig(name);
  return { ...(config.sasl ? { sasl: config.sasl } : {}), ...(config.tls ? { tls: config.tls } : {}) };
}

/** The CLI's environment for a principal (the same keys as a service's bus config). */
function cliEnv(name: string): Record<string, string> {
  const { sasl, tls } = security(name);
  assert.ok(sasl && tls?.caFile);
  return {
    BUILDFLEET_TOPIC_PREFIX: PREFIX,
    BUILDFLEET_BUS_SASL_MECHANISM: sasl.mechanism,
    BUILDFLEET_BUS_SASL_USERNAME: sasl.username,
    BUILDFLEET_BUS_SASL_PASSWORD: sasl.password,
    BUILDFLEET_BUS_TLS_CA_FILE: tls.caFile,
  };
}

async function run(args: string[], env: Record<string, string> = {}) {
  const { child } = startCli(args, env);
  const result = await child;
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('ACLs per role on a Kafka with SCRAM, TLS and StandardAuthorizer', { timeout: 300_000 }, () => {
  const temp = suiteTempDir('buildfleet-acls-');
  let adminConfig = '';
  let cluster: NoopCluster | undefined;
  const buses: Bus[] = [];
  const busOf = (name: string): Bus => {
    const bus = createKafkaBus({
      ...security(name),
      brokers: broker.brokers,
      clientId: name,
      topicPrefix: PREFIX,
      logger,
      retries: 1,
    });
    buses.push(bus);
    return bus;
  };

  before(async () => {
    adminConfig = join(temp.path, 'admin.yml');
    // YAML is a superset of JSON.
    await writeFile(
      adminConfig,
      JSON.stringify({ bus: { ...broker.busConfig('admin'), topicPrefix: PREFIX }, topics: TOPICS }),
    );
  });
  after(async () => {
    for (const bus of buses) await bus.close().catch(() => undefined);
    await cluster?.stop();
    await broker.cleanup();
  });

  it('topics ensure and acls apply run as the administrator only; apply again creates nothing and reports strays', async () => {
    const ensured = await run(['topics', 'ensure', '--config', adminConfig]);
    assert.equal(ensured.exitCode, 0, ensured.stderr);
    assert.match(ensured.stdout, new RegExp(`created +${PREFIX}\\.submit`));

    const entries = plan.flatMap((r) => r.entries).length;
    const applied = await run(['acls', 'apply', '--config', adminConfig]);
    assert.equal(applied.exitCode, 0, applied.stderr);
    assert.equal(applied.stdout.match(/^created /gm)?.length, entries, applied.stdout);
    assert.match(
      applied.stdout,
      new RegExp(`^created +User:buildfleet-runner-arm read topic literal ${PREFIX}\\.requests\\.arm\\.aarch64$`, 'm'),
    );

    // Not as a principal that is no administrator.
    const cliConfig = join(temp.path, 'cli.yml');
    await writeFile(
      cliConfig,
      JSON.stringify({ bus: { ...broker.busConfig(user('cli')), topicPrefix: PREFIX }, topics: TOPICS }),
    );
    const notAdmin = await run(['acls', 'apply', '--config', cliConfig]);
    assert.equal(notAdmin.exitCode, 1, notAdmin.stdout);
    assert.match(
      notAdmin.stderr,
      /^buildfleet: \[bus-not-authorised\] principal 'buildfleet-cli' may not alter on the cluster /m,
    );

    // An ACL of a planned principal that the plan does not hold is reported, and left.
    const stray: AclEntry = {
      principal: `User:${user('cli-readonly')}`,
      resourceType: 'topic',
      resourceName: names.state,
      patternType: 'literal',
      operation: 'describe',
    };
    await withKafkaAdmin(broker.busConfig('admin'), logger, (admin) => applyKafkaAcls(admin, [stray]));
    const again = await run(['acls', 'apply', '--config', adminConfig, '--json']);
    assert.equal(again.exitCode, 0, again.stderr);
    const report = JSON.parse(again.stdout) as AclReport;
    assert.deepEqual([report.created.length, report.present.length, report.extra], [0, entries, [stray]]);
  });

  it('runs the full build path with each service on its own principal; the CLI user submits', async () => {
    cluster = await startNoopCluster({
      brokers: broker.brokers,
      prefix: PREFIX,
      infoService: true,
      files: { 'projects/acl/hello/buildfleet.yml': noopPackage() },
      securityOf: (part, runnerGroup) =>
        security(
          part === 'test'
            ? 'admin'
            : part === 'runner'
              ? user(`runner-${runnerGroup ?? 'default'}`)
              : user(part === 'info' ? 'info-service' : part),
        ),
    });
    await cluster.startRunner({ id: 'runner-acl', group: 'default' });
    const built = await run(
      ['build', 'projects/acl/hello', '--wait', '--until', 'published', '--brokers', broker.brokers.join(',')],
      cliEnv(user('cli')),
    );
    assert.equal(built.exitCode, 0, `stdout:\n${built.stdout}\nstderr:\n${built.stderr}`);
    assert.match(built.stdout, /all 1 build\(s\) reached published/);
    assert.ok(cluster.events.some((e) => e.project === 'projects/acl/hello' && e.state === 'published'));
    assert.deepEqual(cluster.deadletters, []);
  });

  it('refuses a runner that submits, or reads the requests of another runner group', async () => {
    const runner = busOf(user('runner-default'));
    await assert.rejects(
      runner.publish(names.submit, { key: 'projects/acl/hello', value: { v: 1, type: 'build.submit' } }),
      refused(user('runner-default'), new RegExp(`write topic ${PREFIX}\\.submit`)),
    );
    const reading = (topic: string, group: string) =>
      (async () => {
        const subscription = await runner.consume({
          topics: [topic],
          group,
          decode: (value) => value,
          handle: () => Promise.resolve(),
        });
        await subscription.ready;
      })();
    // Another group's topic, under the runner's own group name and under that group's.
    await assert.rejects(
      reading(names.requests('arm', 'aarch64'), groups.runner('default', 'x86_64')),
      refused(user('runner-default'), new RegExp(`read topic ${PREFIX}\\.requests\\.arm\\.aarch64`)),
    );
    await assert.rejects(
      reading(names.requests('arm', 'aarch64'), groups.runner('arm', 'aarch64')),
      refused(
        user('runner-default'),
        new RegExp(
          `use consumer group ${PREFIX}\\.runner\\.arm\\.aarch64|read topic ${PREFIX}\\.requests\\.arm\\.aarch64`,
        ),
      ),
    );
  });

  it('refuses a submission of the read-only CLI principal with a clear error', async () => {
    const denied = await run(
      ['build', 'projects/acl/hello', '--brokers', broker.brokers.join(',')],
      cliEnv(user('cli-readonly')),
    );
    assert.equal(denied.exitCode, 1, `stdout:\n${denied.stdout}\nstderr:\n${denied.stderr}`);
    assert.match(
      denied.stderr,
      new RegExp(
        `^buildfleet: \\[bus-not-authorised\\] principal 'buildfleet-cli-readonly' may not write topic ${PREFIX}\\.submit `,
        'm',
      ),
    );
  });
});
