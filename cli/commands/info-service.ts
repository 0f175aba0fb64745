import type { Command } from 'commander';

export function registerInfoService(program: Command): void {
  program
    .command('info-service')
    .description('run an info service: build status view, info queries, HTTP API, live events and logs')
    .option('--config <file>', 'info service config (see infra/config/info-service.yml)')
    .action(async (options: { config?: string }) => {
      const { runInfoServiceService } = await import('../../info-service/main.ts');
      process.exitCode = await runInfoServiceService(options.config ? { configFile: options.config } : {});
    });
}
