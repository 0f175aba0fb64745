/** `buildfleet logs <buildId> [-f]`: the log of a build; -f follows it until its last line. */
import type { Command } from 'commander';
import { interruptSignal, withClient, withConnectionOptions, type ClientCommandOptions } from './client-options.ts';

interface LogsOptions extends ClientCommandOptions {
  follow?: boolean;
}

export function registerLogs(program: Command): void {
  withConnectionOptions(
    program
      .command('logs <buildId>')
      .description('print the log of a build (text); -f streams it until the build ends or Ctrl-C')
      .option('-f, --follow', 'keep printing lines as they are written, until the last one'),
  ).action(async (buildId: string, options: LogsOptions) => {
    const interrupt = interruptSignal();
    try {
      await withClient(options, (client) =>
        client.logs(
          buildId,
          {
            follow: options.follow === true,
            onLive: () => process.stderr.write(`following the log of ${buildId} (Ctrl-C to stop)\n`),
          },
          (text) => process.stdout.write(text),
          interrupt.signal,
        ),
      );
    } finally {
      interrupt.dispose();
    }
  });
}
