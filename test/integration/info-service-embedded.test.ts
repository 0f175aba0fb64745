/** The info service on the embedded bus of `buildfleet up` (the suite is in info-service/suite.ts). */
import pino from 'pino';
import { EmbeddedBroker } from '../../shared/bus/embedded/broker.ts';
import { createEmbeddedBus } from '../../shared/bus/embedded/bus.ts';
import { infoServiceSuite } from './info-service/suite.ts';

infoServiceSuite('embedded', () => {
  const broker = new EmbeddedBroker();
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  return Promise.resolve({
    client: (topicPrefix) => createEmbeddedBus({ broker, topicPrefix, logger }),
    requestTimeoutMs: 5000,
  });
});
