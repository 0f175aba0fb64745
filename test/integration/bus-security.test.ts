/**
 * Bus principals against a secured broker (SASL_SSL, SCRAM-SHA-512, StandardAuthorizer): every
 * refusal is a clear error naming the broker and the principal, and fails fast.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { createBus, type Bus } from '../../shared/bus/index.ts';
import { withKafkaAdmin } from '../../shared/bus/kafka/acls.ts';
import type { BusConfig } from '../../shared/config/index.ts';
import { isBuildfleetError, type ErrorCode } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { startCli } from '../harness/cli-process.ts';
import { makeTestCa, startSecureBroker, type SecureBroker } from '../harness/secure-kafka.ts';

const TOPIC = 'buildfleet.submit';
const logger = createLogger({ name: 'bus-security-test', level: 'silent' });

describe('bus principals on a secured broker', { timeout: 180_000 }, () => {
  let broker: SecureBroker;
  let otherCaFile: string;
  let dir: string;
  const opened: Bus[] = [];
  /** A bus that gives up after one retry: each refusal must be reported within seconds. */
  const busFor = (config: BusConfig): Bus => {
    const bus = createBus({ ...config, sessionTimeoutMs: 6000 }, logger, {
      kafka: { retries: 1, connectionTimeoutMs: 3000, heartbeatIntervalMs: 500, maxWaitTimeMs: 200 },
    });
    opened.push(bus);
    return bus;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildfleet-bus-security-'));
    otherCaFile = (await makeTestCa(dir, 'other-ca')).caFile;
    broker = await startSecureBroker({ users: ['runner'] });
    const admin = busFor(broker.busConfig('admin'));
    await admin.ensureTopics([{ name: TOPIC, partitions: 1, replication: 1, config: {} }]);
  });
  after(async () => {
    await Promise.all(opened.map((bus) => bus.close().catch(() => undefined)));
    await broker?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** Publishes as `config` and returns the error, checking its code, the broker and how long it took. */
  async function refusal(config: BusConfig, code: ErrorCode): Promise<string> {
    const started = Date.now();
    const error = await busFor(config)
      .publish(TOPIC, { key: 'k', value: { hello: 1 } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isBuildfleetError(error, code), `expected ${code}, got ${String(error)}`);
    assert.ok(error.message.includes(broker.brokers[0] ?? '?'), error.message);
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    return error.message;
  }

  it('a wrong password: the broker refused the principal', async () => {
    const runner = broker.busConfig('runner');
    const sasl = { mechanism: 'scram-sha-512' as const, username: 'runner', password: 'not-the-password' };
    const message = await refusal({ ...runner, sasl }, 'bus-auth-failed');
    assert.match(
      message,
      /^broker 127\.0\.0\.1:\d+ refused principal 'runner': wrong password or unknown user \(SCRAM-SHA-512\)$/,
    );
  });

  it('no credentials for a SASL listener: says so instead of a closed connection', async () => {
    const { sasl: _sasl, ...withoutSasl } = broker.busConfig('runner');
    const message = await refusal(withoutSasl, 'bus-auth-failed');
    assert.match(message, /closed the connection of principal ANONYMOUS: it wants SASL credentials \(bus\.sasl\)/);
    // A consumer's own connection says the same.
    const consumed = await busFor(withoutSasl)
      .consume({ group: 'buildfleet.test', topics: [TOPIC], decode: (v) => v, handle: async () => {} })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isBuildfleetError(consumed, 'bus-auth-failed'), String(consumed));
  });

  it('a mechanism the listener does not offer: named as such', async () => {
    const runner = broker.busConfig('runner');
    const sasl = { ...runner.sasl!, mechanism: 'scram-sha-256' as const };
    const message = await refusal({ ...runner, sasl }, 'bus-auth-failed');
    assert.match(message, /^broker 127\.0\.0\.1:\d+ does not offer SCRAM-SHA-256 for principal 'runner'/);
  });

  it('a CA that did not sign the broker: a TLS error naming the CA file', async () => {
    const runner = broker.busConfig('runner');
    const message = await refusal({ ...runner, tls: { enabled: true, caFile: otherCaFile } }, 'bus-tls-failed');
    assert.match(message, /^TLS to broker 127\.0\.0\.1:\d+ failed \(principal 'runner'\): /);
    assert.ok(message.includes(`not signed by a CA in bus.tls.caFile ${otherCaFile}`), message);
  });

  it('a certificate that does not carry the expected name: says to set bus.tls.servername', async () => {
    const runner = broker.busConfig('runner');
    const tls = { enabled: true, caFile: broker.caFile, servername: 'kafka.elsewhere.example' };
    const message = await refusal({ ...runner, tls }, 'bus-tls-failed');
    assert.match(message, /its certificate does not name the host connected to; set bus\.tls\.servername/);
  });

  it('no TLS towards a SASL_SSL listener: not a silent hang', async () => {
    const { tls: _tls, ...withoutTls } = broker.busConfig('runner');
    const message = await refusal(withoutTls, 'bus-unavailable');
    assert.match(message, /set bus\.tls/);
  });

  it('a principal without ACLs may not write or read the topic (never "topic does not exist")', async () => {
    const message = await refusal(broker.busConfig('runner'), 'bus-not-authorised');
    assert.match(message, /^principal 'runner' may not write topic buildfleet\.submit \(broker 127\.0\.0\.1:\d+/);
    assert.doesNotMatch(message, /does not exist/);
    const consumed = await busFor(broker.busConfig('runner'))
      .consume({ group: 'buildfleet.test', topics: [TOPIC], decode: (v) => v, handle: async () => {} })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isBuildfleetError(consumed, 'bus-not-authorised'), String(consumed));
    assert.match(consumed.message, /^principal 'runner' may not read topic buildfleet\.submit /);
  });

  it('a principal that may read the topic but not use the group: named group, not a silent hang', async () => {
    const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;
    await withKafkaAdmin(broker.busConfig('admin'), logger, (admin) =>
      admin.createAcls({
        acl: [AclOperationTypes.READ, AclOperationTypes.DESCRIBE].map((operation) => ({
          principal: 'User:runner',
          host: '*',
          resourceType: AclResourceTypes.TOPIC,
          resourceName: TOPIC,
          resourcePatternType: ResourcePatternTypes.LITERAL,
          operation,
          permissionType: AclPermissionTypes.ALLOW,
        })),
      }),
    );
    const started = Date.now();
    const consumed = await busFor(broker.busConfig('runner'))
      .consume({ group: 'buildfleet.runners', topics: [TOPIC], decode: (v) => v, handle: async () => {} })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isBuildfleetError(consumed, 'bus-not-authorised'), String(consumed));
    assert.match(consumed.message, /^principal 'runner' may not use consumer group buildfleet\.runners /);
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  });

  it('a missing topic is still reported as missing to a principal that may see it', async () => {
    const error = await busFor(broker.busConfig('admin'))
      .publish('buildfleet.nope', { key: null, value: 1 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isBuildfleetError(error, 'topic-missing'), String(error));
  });

  it('the super user produces and consumes over SASL_SSL', async () => {
    const admin = busFor(broker.busConfig('admin'));
    const received = new Promise<unknown>((resolve) => {
      void admin
        .consume<unknown>({
          group: 'buildfleet.test-admin',
          topics: [TOPIC],
          decode: (value) => value,
          handle: async (record) => resolve(record.value),
        })
        .then((subscription) => subscription.ready);
    });
    await admin.publish(TOPIC, { key: 'k', value: { from: 'admin' } });
    assert.deepEqual(await received, { from: 'admin' });
  });

  it('the CLI reads the same BUILDFLEET_BUS_* variables and prints the refusal without a stack', async () => {
    const run = startCli(['build', 'hello', '--brokers', broker.brokers.join(',')], {
      BUILDFLEET_BUS_SASL_MECHANISM: 'scram-sha-512',
      BUILDFLEET_BUS_SASL_USERNAME: 'runner',
      BUILDFLEET_BUS_SASL_PASSWORD: 'wrong',
      BUILDFLEET_BUS_TLS_CA_FILE: broker.caFile,
    });
    const result = await run.child;
    assert.equal(result.exitCode, 1, run.err());
    assert.match(run.err(), /^buildfleet: \[bus-auth-failed\] broker 127\.0\.0\.1:\d+ refused principal 'runner'/);
    assert.doesNotMatch(run.err(), /\n\s+at /);
  });
});

describe('a broker that requires client certificates', { timeout: 120_000 }, () => {
  let broker: SecureBroker;
  const opened: Bus[] = [];
  before(async () => {
    broker = await startSecureBroker({ users: [], clientCertificates: true });
  });
  after(async () => {
    await Promise.all(opened.map((bus) => bus.close().catch(() => undefined)));
    await broker?.cleanup();
  });

  it('takes bus.tls.certFile and keyFile; without them the TLS handshake is refused', async () => {
    const withCertificate = broker.busConfig('admin');
    assert.ok(withCertificate.tls?.certFile !== undefined && withCertificate.tls.keyFile !== undefined);
    const admin = createBus(withCertificate, logger, { kafka: { retries: 1, connectionTimeoutMs: 3000 } });
    opened.push(admin);
    await admin.ensureTopics([{ name: TOPIC, partitions: 1, replication: 1, config: {} }]);
    await admin.publish(TOPIC, { key: 'k', value: { with: 'certificate' } });

    const tls = { enabled: true, caFile: broker.caFile };
    const without = createBus({ ...withCertificate, tls }, logger, {
      kafka: { retries: 1, connectionTimeoutMs: 3000 },
    });
    opened.push(without);
    const started = Date.now();
    const error = await without.publish(TOPIC, { key: 'k', value: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isBuildfleetError(error, 'bus-tls-failed'), String(error));
    assert.match(
      error.message,
      /^TLS to broker 127\.0\.0\.1:\d+ failed \(principal 'admin'\): the broker wants a client certificate: set bus\.tls\.certFile and bus\.tls\.keyFile/,
    );
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  });
});
