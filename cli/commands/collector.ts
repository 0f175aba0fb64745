import type { Command } from 'commander';

export function registerCollector(program: Command): void {
  program
    .command('collector')
    .description('run a collector: turns succeeded builds into signed apt and rpm repositories')
    .option('--config <file>', 'collector config (see infra/config/collector.yml)')
    .action(async (options: { config?: string }) => {
      const { runCollectorService } = await import('../../collector/main.ts');
      process.exitCode = await runCollectorService(options.config ? { configFile: options.config } : {});
    });
}
