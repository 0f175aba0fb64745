/** `buildfleet watch`: live build events, one line each, until Ctrl-C. */
import type { Command } from 'commander';
import type { EventFilter } from '../client/port.ts';
import { formatEventLine } from '../format/events.ts';
import { interruptSignal, withClient, withConnectionOptions, type ClientCommandOptions } from './client-options.ts';

interface WatchOptions extends ClientCommandOptions {
  project?: string;
  build?: string;
  submitId?: string;
  heartbeats?: boolean;
}

export function registerWatch(program: Command): void {
  withConnectionOptions(
    program
      .command('watch')
      .description('print build events as they happen, until Ctrl-C (exit 0)')
      .option('--project <project>', 'only builds of this project')
      .option('--build <buildId>', 'only this build')
      .option('--submit-id <id>', 'only events that carry this submission id')
      .option('--heartbeats', 'also print heartbeat events (lease renewals)')
      .option('--json', 'print each event as one JSON line (NDJSON)'),
  ).action(async (options: WatchOptions) => {
    const filter: EventFilter = {
      ...(options.project ? { project: options.project } : {}),
      ...(options.build ? { buildId: options.build } : {}),
      ...(options.submitId ? { submitId: options.submitId } : {}),
    };
    const interrupt = interruptSignal();
    try {
      await withClient(options, async (client) => {
        const watching = await client.watch(
          filter,
          (event) => {
            if (event.state === 'heartbeat' && !options.heartbeats) return;
            process.stdout.write(options.json ? `${JSON.stringify(event)}\n` : `${formatEventLine(event)}\n`);
          },
          interrupt.signal,
        );
        process.stderr.write(`watching build events of ${client.describe()} (Ctrl-C to stop)\n`);
        await watching.ended;
      });
    } finally {
      interrupt.dispose();
    }
  });
}
