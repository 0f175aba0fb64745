import { BuildfleetError } from '../../errors/index.ts';

/** A kafkajs producer or admin client, connected on first use and shared after. */
export interface LazyClient<T> {
  /** The connected client; a failed connect is not kept, so the next call tries again (bus-unavailable). */
  connected(): Promise<T>;
  /** Disconnects the client if it was connected; nothing when it never was or its connect failed. */
  disconnect(): Promise<void>;
}

export function lazyClient<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  create: () => T,
  /** Turns a failed connect into the error callers see. @default bus-unavailable with kafkajs' message */
  failure: (error: unknown) => BuildfleetError = unavailable,
): LazyClient<T> {
  let client: Promise<T> | null = null;
  return {
    connected() {
      client ??= (async () => {
        const c = create();
        await c.connect();
        return c;
      })().catch((error: unknown) => {
        client = null;
        throw failure(error);
      });
      return client;
    },
    async disconnect() {
      const [settled] = await Promise.allSettled([client]);
      if (settled.status === 'fulfilled' && settled.value) await settled.value.disconnect();
    },
  };
}

function unavailable(error: unknown): BuildfleetError {
  return new BuildfleetError(
    'bus-unavailable',
    `Kafka not reachable: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  );
}
