import type { Command } from 'commander';

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the scheduler: submissions -> build requests, leases and retries, change detection')
    .option('--config <file>', 'scheduler config (see infra/config/scheduler.yml)')
    .action(async (options: { config?: string }) => {
      const { runSchedulerService } = await import('../../scheduler/main.ts');
      process.exitCode = await runSchedulerService(options.config ? { configFile: options.config } : {});
    });
}
