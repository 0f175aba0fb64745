import type { Command } from 'commander';
import { registerServiceCommand } from './service-command.ts';

export function registerScheduler(program: Command): void {
  registerServiceCommand(program, {
    name: 'scheduler',
    description: 'run the scheduler: submissions -> build requests, leases and retries, change detection',
    configHelp: 'scheduler config',
    load: async () => (await import('../../scheduler/main.ts')).runSchedulerService,
  });
}
