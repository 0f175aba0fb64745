import type { Static } from '@sinclair/typebox';
import type { Command } from 'commander';
import { DEFAULT_PRINCIPAL_PREFIX, planAcls, type AclEntry, type RolePlan } from '../../shared/bus/acl-plan.ts';
import { applyKafkaAcls, withKafkaAdmin, type AclReport } from '../../shared/bus/kafka/acls.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { TopicsCommandConfig } from './topics.ts';

interface AclsOptions {
  config?: string;
  brokers?: string;
  json?: boolean;
  principalPrefix: string;
}

/** Principal names end up in `User:<prefix><role>`: no spaces, colons or commas. */
const PRINCIPAL_PREFIX = /^[A-Za-z0-9._@=-]*$/;

export function registerAcls(program: Command): void {
  const acls = program
    .command('acls')
    .description('the Kafka ACLs of each role (least privilege); `topics ensure` makes the topics');
  const withOptions = (command: Command): Command =>
    command
      .option('--config <file>', 'YAML file with bus and topics settings (the same as for `topics ensure`)')
      .option('--brokers <list>', 'Kafka bootstrap brokers, comma-separated (overrides the config)')
      .option('--principal-prefix <prefix>', 'principals are User:<prefix><role>', DEFAULT_PRINCIPAL_PREFIX)
      .option('--json', 'print JSON');
  withOptions(acls.command('plan'))
    .description('print the ACLs of every role: scheduler, runner per runner group, collector, info service, CLI')
    .action((options: AclsOptions) => {
      const { plan } = load(options);
      process.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
    });
  withOptions(acls.command('apply'))
    .description('create the planned ACLs that are missing (idempotent; run as a Kafka administrator)')
    .action(async (options: AclsOptions) => {
      const { config, plan } = load(options);
      const logger = createLogger({ name: 'acls', level: config.log.level, destination: process.stderr });
      const report = await withKafkaAdmin(config.bus, logger, (admin) =>
        applyKafkaAcls(
          admin,
          plan.flatMap((r) => r.entries),
        ),
      );
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatAclReport(report));
    });
}

function load(options: AclsOptions): { config: Static<typeof TopicsCommandConfig>; plan: RolePlan[] } {
  if (!PRINCIPAL_PREFIX.test(options.principalPrefix)) {
    throw new BuildfleetError(
      'usage',
      `--principal-prefix "${options.principalPrefix}" may hold only letters, digits and . _ @ = -`,
      { context: { field: '--principal-prefix' } },
    );
  }
  const config = loadConfig(TopicsCommandConfig, {
    ...(options.config ? { file: options.config } : {}),
    // A command line tool: the outcome is printed; the client's own chatter only with BUILDFLEET_LOG_LEVEL.
    defaults: { log: { level: 'fatal' } },
  });
  if (options.brokers) config.bus.brokers = options.brokers.split(',');
  const plan = planAcls({
    topicPrefix: config.bus.topicPrefix,
    principalPrefix: options.principalPrefix,
    runnerGroups: config.topics.runnerGroups,
  });
  return { config, plan };
}

/** The plan as a table: one line per ACL, the principal's lines together. */
export function formatPlan(plan: readonly RolePlan[]): string {
  return formatTable(plan.flatMap((r) => r.entries));
}

export function formatAclReport(report: AclReport): string {
  const lines = [
    ...report.created.map((e) => `created   ${describeAcl(e)}`),
    ...report.present.map((e) => `present   ${describeAcl(e)}`),
    ...report.extra.map((e) => `extra     ${describeAcl(e)} (not in the plan; left as it is)`),
  ];
  return `${lines.join('\n')}\n`;
}

function describeAcl(e: AclEntry): string {
  return `${e.principal} ${e.operation} ${e.resourceType} ${e.patternType} ${e.resourceName}`;
}

function formatTable(entries: readonly AclEntry[]): string {
  const header = ['PRINCIPAL', 'OPERATION', 'RESOURCE', 'PATTERN', 'NAME'];
  const rows = entries.map((e) => [e.principal, e.operation, e.resourceType, e.patternType, e.resourceName]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
