import pino from 'pino';
import { createKafkaBus } from '../../shared/bus/kafka/bus.ts';
import { useKafka } from '../harness/kafka.ts';
import { busConformance } from './bus/conformance.ts';

// A short session timeout, so that the pause test shows a paused member outliving it.
const SESSION_TIMEOUT_MS = 6000;

// Top level: the harness's after() hook then belongs to the file, not to the first test
// (the suite sets its fixture up lazily inside a test).
const { brokers } = await useKafka();

busConformance('kafka', async () => {
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  return {
    client: () =>
      createKafkaBus({
        brokers,
        clientId: 'conformance',
        logger,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: 500,
        maxWaitTimeMs: 200,
      }),
    pauseWindowMs: SESSION_TIMEOUT_MS + 2000,
  };
});
