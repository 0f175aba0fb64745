/** What every client command shares: the connection options, opening the client, signals and output. */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { connectClient, type ConnectionFlags } from '../client/connect.ts';
import type { ClusterClient } from '../client/port.ts';

export interface ClientCommandOptions extends ConnectionFlags {
  json?: boolean;
}

const CONNECTION_HELP = `
Connection: --api <url> wins over --brokers <list>; with neither, BUILDFLEET_API, then
BUILDFLEET_BROKERS, else http://127.0.0.1:8080 (what \`buildfleet up\` serves). See docs/cli.md.`;

/** Adds --api, --brokers, --topic-prefix and --store to a client command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--api <url>', 'HTTP API of the cluster (env BUILDFLEET_API)')
    .option('--brokers <list>', 'talk to Kafka directly: bootstrap brokers, comma-separated (env BUILDFLEET_BROKERS)')
    .option('--topic-prefix <prefix>', 'over Kafka: topic prefix (env BUILDFLEET_TOPIC_PREFIX, default buildfleet)')
    .option(
      '--store <dir|file>',
      'over Kafka: artifact store for logs and artifacts, a directory or a config file with a storage: section ' +
        '(env BUILDFLEET_STORAGE_*)',
    )
    .addHelpText('after', CONNECTION_HELP);
}

/** Opens the client the options choose, runs `work` with it and closes it whatever happens. */
export async function withClient<T>(flags: ConnectionFlags, work: (client: ClusterClient) => Promise<T>): Promise<T> {
  const client = await connectClient({
    ...(flags.api !== undefined ? { api: flags.api } : {}),
    ...(flags.brokers !== undefined ? { brokers: flags.brokers } : {}),
    ...(flags.topicPrefix !== undefined ? { topicPrefix: flags.topicPrefix } : {}),
    ...(flags.store !== undefined ? { store: flags.store } : {}),
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/**
 * An AbortSignal that Ctrl-C (SIGINT) and SIGTERM abort, with the signal's name as reason.
 * `dispose` removes the handlers so the process can exit.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onInt = (): void => controller.abort('SIGINT');
  const onTerm = (): void => controller.abort('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
    },
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `alice@cli`: who asked, for build.submit's requestedBy and the cancel reason. */
export function whoAsks(): string {
  try {
    return `${userInfo().username}@cli`;
  } catch {
    return 'cli';
  }
}
