import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { ClientConfig } from '../../cli/client/connect.ts';
import { kafkaSecurityOptions } from '../../shared/bus/kafka/security.ts';
import { BusConfig, loadConfig } from '../../shared/config/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { suiteTempDir, writeFileIn } from '../harness/temp-files.ts';

const ServiceSchema = Type.Object({ bus: BusConfig });

describe('bus security keys', () => {
  const dir = suiteTempDir('buildfleet-bus-security-');

  it('maps BUILDFLEET_BUS_SASL_* and BUILDFLEET_BUS_TLS_* onto bus.sasl and bus.tls', () => {
    const { bus } = loadConfig(ServiceSchema, {
      env: {
        BUILDFLEET_BUS_SASL_MECHANISM: 'scram-sha-512',
        BUILDFLEET_BUS_SASL_USERNAME: 'runner',
        BUILDFLEET_BUS_SASL_PASSWORD: 'pw',
        BUILDFLEET_BUS_TLS_CA_FILE: '/etc/kafka/ca.pem',
        BUILDFLEET_BUS_TLS_SERVERNAME: 'kafka.example',
      },
    });
    assert.deepEqual(bus.sasl, { mechanism: 'scram-sha-512', username: 'runner', password: 'pw' });
    assert.deepEqual(bus.tls, { enabled: true, caFile: '/etc/kafka/ca.pem', servername: 'kafka.example' });
  });

  it('gives the CLI the same variables as the services', () => {
    const env = {
      BUILDFLEET_BUS_SASL_MECHANISM: 'scram-sha-256',
      BUILDFLEET_BUS_SASL_USERNAME: 'alice',
      BUILDFLEET_BUS_SASL_PASSWORD: 'pw',
      BUILDFLEET_BUS_TLS_ENABLED: '1',
      BUILDFLEET_SASL_USERNAME: 'the old name, ignored',
    };
    const client = loadConfig(ClientConfig, { env });
    const service = loadConfig(ServiceSchema, { env });
    assert.deepEqual(client.bus, { sasl: service.bus.sasl, tls: service.bus.tls });
    assert.deepEqual(client.bus.tls, { enabled: true });
  });

  it('refuses SASL PLAIN without TLS, naming bus.sasl.mechanism and where it was set', () => {
    const env = {
      BUILDFLEET_BUS_SASL_MECHANISM: 'plain',
      BUILDFLEET_BUS_SASL_USERNAME: 'u',
      BUILDFLEET_BUS_SASL_PASSWORD: 'hunter2',
    };
    for (const schema of [ServiceSchema, ClientConfig]) {
      assert.throws(
        () => loadConfig(schema, { env }),
        (error: unknown) =>
          isBuildfleetError(error, 'config-invalid') &&
          error.message.startsWith('config: bus.sasl.mechanism "plain" sends the password in clear text') &&
          error.message.endsWith('(from BUILDFLEET_BUS_SASL_MECHANISM="plain")') &&
          !error.message.includes('hunter2'),
      );
    }
    // With TLS it is accepted; TLS switched off refuses it again.
    const withTls = loadConfig(ServiceSchema, { env: { ...env, BUILDFLEET_BUS_TLS_ENABLED: 'true' } });
    assert.equal(withTls.bus.sasl?.mechanism, 'plain');
    assert.throws(
      () => loadConfig(ServiceSchema, { env: { ...env, BUILDFLEET_BUS_TLS: '{"enabled":false}' } }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && error.message.includes('bus.sasl.mechanism'),
    );
  });

  it('wants a client certificate and its key together', () => {
    const file = writeFileIn(dir.path, 'cert-only.yml', 'bus:\n  tls:\n    certFile: /etc/client.pem\n');
    assert.throws(
      () => loadConfig(ServiceSchema, { file, env: {} }),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') &&
        error.message ===
          `config: bus.tls.keyFile is needed with bus.tls.certFile (the client certificate's key) (from ${file}:2)`,
    );
  });
});

describe('kafkaSecurityOptions', () => {
  const dir = suiteTempDir('buildfleet-kafka-security-');

  it('is plaintext without sasl and tls', () => {
    assert.deepEqual(kafkaSecurityOptions({}), { ssl: false });
    assert.deepEqual(kafkaSecurityOptions({ tls: { enabled: false, caFile: '/nowhere' } }), { ssl: false });
  });

  it('reads the PEM files into kafkajs ssl options and passes SASL through', () => {
    const ca = writeFileIn(dir.path, 'ca.pem', 'CA PEM');
    const cert = writeFileIn(dir.path, 'client.pem', 'CERT PEM');
    const key = writeFileIn(dir.path, 'client.key', 'KEY PEM');
    const options = kafkaSecurityOptions({
      sasl: { mechanism: 'scram-sha-512', username: 'runner', password: 'pw' },
      tls: { enabled: true, caFile: ca, certFile: cert, keyFile: key, servername: 'kafka.example' },
    });
    assert.deepEqual(options.sasl, { mechanism: 'scram-sha-512', username: 'runner', password: 'pw' });
    assert.ok(typeof options.ssl === 'object');
    assert.deepEqual(
      [options.ssl.ca, options.ssl.cert, options.ssl.key],
      [Buffer.from('CA PEM'), Buffer.from('CERT PEM'), Buffer.from('KEY PEM')],
    );
    assert.equal(options.ssl.servername, 'kafka.example');
    // TLS with the system's CAs: an empty options object, not `true` without checks.
    assert.deepEqual(kafkaSecurityOptions({ tls: { enabled: true } }).ssl, {});
  });

  it('names the key of a file it cannot read', () => {
    assert.throws(
      () => kafkaSecurityOptions({ tls: { enabled: true, caFile: `${dir.path}/missing-ca.pem` } }),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') &&
        error.message === `config: bus.tls.caFile: cannot read ${dir.path}/missing-ca.pem (ENOENT)`,
    );
  });

  it('refuses PLAIN without TLS for callers that did not load a config', () => {
    assert.throws(
      () => kafkaSecurityOptions({ sasl: { mechanism: 'plain', username: 'u', password: 'p' } }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && error.message.includes('bus.sasl.mechanism'),
    );
  });
});
