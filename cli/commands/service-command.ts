import type { Command } from 'commander';

/** A long-running service's command: `buildfleet <name> [--config <file>]`, exiting with its code. */
export interface ServiceCommand {
  name: string;
  description: string;
  /** What the config file is, for --config's help, e.g. 'collector config'. */
  configHelp: string;
  /** Loads the service's main (only when the command runs) and returns its run function. */
  load: () => Promise<(options: { configFile?: string }) => Promise<number>>;
}

export function registerServiceCommand(program: Command, service: ServiceCommand): void {
  program
    .command(service.name)
    .description(service.description)
    .option('--config <file>', `${service.configHelp} (see infra/config/${service.name}.yml)`)
    .action(async (options: { config?: string }) => {
      const run = await service.load();
      process.exitCode = await run(options.config ? { configFile: options.config } : {});
    });
}
