import type { Command } from 'commander';
import { registerServiceCommand } from './service-command.ts';

export function registerInfoService(program: Command): void {
  registerServiceCommand(program, {
    name: 'info-service',
    description: 'run an info service: build status view, info queries, HTTP API, live events and logs',
    configHelp: 'info service config',
    load: async () => (await import('../../info-service/main.ts')).runInfoServiceService,
  });
}
