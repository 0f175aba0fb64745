import pino from 'pino';
import { EmbeddedBroker } from '../../shared/bus/embedded/broker.ts';
import { createEmbeddedBus } from '../../shared/bus/embedded/bus.ts';
import { busConformance } from './bus/conformance.ts';

busConformance('embedded', () => {
  const broker = new EmbeddedBroker();
  const logger = pino({ level: 'silent' });
  return Promise.resolve({ client: () => createEmbeddedBus({ broker, logger }), pauseWindowMs: 500 });
});
