import { Type } from '@sinclair/typebox';
import type { Command } from 'commander';
import { createBus, plannedTopics, TopicsConfig } from '../../shared/bus/index.ts';
import { BusConfig, LogConfig, loadConfig } from '../../shared/config/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import type { TopicReport } from '../../shared/bus/port.ts';

export const TopicsCommandConfig = Type.Object({ bus: BusConfig, topics: TopicsConfig, log: LogConfig });

interface EnsureOptions {
  config?: string;
  brokers?: string;
  json?: boolean;
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('manage the Kafka topics of a cluster');
  topics
    .command('ensure')
    .description('create every topic of the cluster and align partitions and retention (idempotent)')
    .option('--config <file>', 'YAML file with bus and topics settings')
    .option('--brokers <list>', 'Kafka bootstrap brokers, comma-separated (overrides the config)')
    .option('--json', 'print the report as JSON')
    .action(async (options: EnsureOptions) => {
      const config = loadConfig(TopicsCommandConfig, {
        ...(options.config ? { file: options.config } : {}),
        // A command line tool: the outcome is printed; the client's own chatter only with BUILDFLEET_LOG_LEVEL.
        defaults: { log: { level: 'fatal' } },
      });
      if (options.brokers) config.bus.brokers = options.brokers.split(',');
      const logger = createLogger({ name: 'topics', level: config.log.level, destination: process.stderr });
      const bus = createBus(config.bus, logger, { kafka: { retries: 2 } });
      try {
        const report = await bus.ensureTopics(plannedTopics(config.bus.topicPrefix, config.topics));
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      } finally {
        await bus.close();
      }
    });
}

export function formatReport(report: TopicReport): string {
  const lines = [
    ...report.created.map((t) => `created   ${t}`),
    ...report.changed.map((c) => `changed   ${c.topic}: ${c.change}`),
    ...report.unchanged.map((t) => `unchanged ${t}`),
    ...report.warnings.map((w) => `warning   ${w.topic}: ${w.change}`),
  ];
  return `${lines.join('\n')}\n`;
}
