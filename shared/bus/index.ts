import type { Logger } from '../log/index.ts';
import type { BusConfig } from '../config/index.ts';
import { EmbeddedBroker } from './embedded/broker.ts';
import { createEmbeddedBus } from './embedded/bus.ts';
import { createKafkaBus, type KafkaBusOptions } from './kafka/bus.ts';
import type { Bus } from './port.ts';

export type * from './port.ts';

export { EmbeddedBroker } from './embedded/broker.ts';
export { plannedTopics, TopicsConfig } from './topic-plan.ts';

/**
 * Makes the bus the configuration asks for. The embedded bus needs the broker it shares with
 * the other services of the same process; one is made when none is given.
 */
export function createBus(
  config: BusConfig,
  logger: Logger,
  options: { embeddedBroker?: EmbeddedBroker; kafka?: Partial<KafkaBusOptions> } = {},
): Bus {
  switch (config.type) {
    case 'embedded':
      return createEmbeddedBus({
        broker: options.embeddedBroker ?? new EmbeddedBroker(),
        topicPrefix: config.topicPrefix,
        logger,
      });
    case 'kafka':
      return createKafkaBus({
        sessionTimeoutMs: config.sessionTimeoutMs,
        heartbeatIntervalMs: Math.min(3000, Math.floor(config.sessionTimeoutMs / 10)),
        ...options.kafka,
        brokers: config.brokers,
        clientId: config.clientId,
        topicPrefix: config.topicPrefix,
        ...(config.sasl ? { sasl: config.sasl } : {}),
        ...(config.tls ? { tls: config.tls } : {}),
        logger,
      });
    default: {
      const unknown: never = config.type;
      throw new Error(`unknown bus type ${String(unknown)}`);
    }
  }
}
