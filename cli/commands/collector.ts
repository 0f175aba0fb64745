import type { Command } from 'commander';
import { registerServiceCommand } from './service-command.ts';

export function registerCollector(program: Command): void {
  registerServiceCommand(program, {
    name: 'collector',
    description: 'run a collector: turns succeeded builds into signed apt and rpm repositories',
    configHelp: 'collector config',
    load: async () => (await import('../../collector/main.ts')).runCollectorService,
  });
}
