/** `buildfleet cancel <buildId>`: asks the cluster to cancel a build. */
import type { Command } from 'commander';
import { printJson, whoAsks, withClient, withConnectionOptions, type ClientCommandOptions } from './client-options.ts';

interface CancelOptions extends ClientCommandOptions {
  reason?: string;
}

export function registerCancel(program: Command): void {
  withConnectionOptions(
    program
      .command('cancel <buildId>')
      .description('cancel a build: the runner holding it aborts it and reports it cancelled')
      .option('--reason <text>', 'why, for the build record and the log (default: who asked)')
      .option('--json', 'print { buildId, reason }'),
  ).action(async (buildId: string, options: CancelOptions) => {
    const reason = options.reason ?? `cancelled by ${whoAsks()}`;
    await withClient(options, (client) => client.cancel(buildId, reason));
    if (options.json) printJson({ buildId, reason });
    else process.stdout.write(`cancel of ${buildId} requested\n`);
  });
}
