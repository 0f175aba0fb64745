/** The info service on real Kafka (the suite is in info-service/suite.ts). */
import pino from 'pino';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { useKafka } from '../harness/kafka.ts';
import { infoServiceSuite } from './info-service/suite.ts';

const { brokers } = await useKafka();

infoServiceSuite('Kafka', () => {
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  return Promise.resolve({
    client: (topicPrefix) =>
      createKafkaBus({ brokers, clientId: 'info-service-test', topicPrefix, logger, heartbeatIntervalMs: 500 }),
    requestTimeoutMs: 30_000,
  });
});
