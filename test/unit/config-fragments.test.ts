import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import {
  BusConfig,
  LogConfig,
  MetricsConfig,
  StorageConfig,
  isSecretKey,
  loadConfig,
  loadConfigWithSources,
  redactConfig,
} from '../../shared/config/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { suiteTempDir, writeFileIn } from '../harness/temp-files.ts';

const ServiceSchema = Type.Object({ bus: BusConfig, storage: StorageConfig, log: LogConfig, metrics: MetricsConfig });

describe('common config fragments', () => {
  const dir = suiteTempDir('buildfleet-config-fragments-');

  it('fills bus, log and metrics defaults; storage must be chosen', () => {
    const config = loadConfig(ServiceSchema, {
      env: { BUILDFLEET_STORAGE_TYPE: 'fs', BUILDFLEET_STORAGE_ROOT: '/srv/a' },
    });
    assert.deepEqual(config, {
      bus: {
        type: 'kafka',
        brokers: ['127.0.0.1:9092'],
        clientId: 'buildfleet',
        topicPrefix: 'buildfleet',
        sessionTimeoutMs: 30_000,
      },
      storage: { type: 'fs', root: '/srv/a' },
      log: { level: 'info' },
      metrics: { enabled: true, host: '127.0.0.1', port: 9464 },
    });
    assert.throws(
      () => loadConfig(ServiceSchema, { env: {} }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && error.message.includes('storage'),
    );
  });

  it('reads an s3 store and SASL from the file and fills the s3 defaults', () => {
    const file = writeFileIn(
      dir.path,
      'service.yml',
      [
        'bus:',
        '  brokers: [k1:9092, k2:9092]',
        '  sasl: { mechanism: scram-sha-512, username: fleet, password: s3cret }',
        'storage:',
        '  type: s3',
        '  bucket: artifacts',
        '  endpoint: http://127.0.0.1:9000',
        '',
      ].join('\n'),
    );
    const config = loadConfig(ServiceSchema, { file, env: { BUILDFLEET_STORAGE_FORCE_PATH_STYLE: 'true' } });
    assert.deepEqual(config.bus.brokers, ['k1:9092', 'k2:9092']);
    assert.deepEqual(config.bus.sasl, { mechanism: 'scram-sha-512', username: 'fleet', password: 's3cret' });
    assert.deepEqual(config.storage, {
      type: 's3',
      bucket: 'artifacts',
      endpoint: 'http://127.0.0.1:9000',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: true,
    });
  });

  it('checks the variant the storage type selects', () => {
    const file = writeFileIn(dir.path, 's3-without-bucket.yml', 'storage:\n  type: s3\n  bucket: ""\n  rooot: /x\n');
    assert.throws(
      () => loadConfig(ServiceSchema, { file, env: {} }),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') &&
        error.message === `config: unknown key storage.rooot (from ${file}:4)`,
    );
    writeFileSync(file, 'storage:\n  type: s3\n  bucket: ""\n');
    assert.throws(
      () => loadConfig(ServiceSchema, { file, env: {} }),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') &&
        error.message === `config: storage.bucket must be a non-empty string (from ${file}:3)`,
    );
  });

  it('keeps secrets out of the recorded sources', () => {
    const loaded = loadConfigWithSources(ServiceSchema, {
      env: {
        BUILDFLEET_STORAGE: '{"type":"s3","bucket":"b","secretAccessKey":"hunter1"}',
        BUILDFLEET_BUS_SASL: '{"mechanism":"scram-sha-512","username":"u","password":"x"}',
        BUILDFLEET_BUS_SASL_PASSWORD: 'hunter2',
      },
    });
    assert.equal(loaded.config.bus.sasl?.password, 'hunter2');
    assert.deepEqual(loaded.sources.get('bus.sasl.password'), {
      kind: 'env',
      name: 'BUILDFLEET_BUS_SASL_PASSWORD',
      value: '[redacted]',
    });
    const recorded = JSON.stringify([...loaded.sources]);
    assert.ok(!recorded.includes('hunter1') && !recorded.includes('hunter2'), recorded);
  });

  it('rejects a topic prefix Kafka would not accept', () => {
    assert.throws(
      () =>
        loadConfig(ServiceSchema, {
          env: { BUILDFLEET_STORAGE: '{"type":"fs","root":"/r"}', BUILDFLEET_BUS_TOPIC_PREFIX: 'a b' },
        }),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') &&
        error.message.startsWith('config: bus.topicPrefix must be a string matching ^[A-Za-z0-9._-]+$'),
    );
  });
});

describe('redactConfig', () => {
  it('masks secrets at any depth and leaves the input alone', () => {
    const config = {
      bus: { brokers: ['k:9092'], sasl: { mechanism: 'plain', username: 'u', password: 'p' } },
      storage: { type: 's3', accessKeyId: 'AKIA', secretAccessKey: 'shh' },
      signing: { keyId: 'ABCD', key: '-----BEGIN PGP PRIVATE KEY BLOCK-----\nxyz\n' },
      webhooks: [{ url: 'http://h', token: 't' }],
      buildKey: 'projects/a@bookworm.x86_64',
    };
    const redacted = redactConfig(config);
    assert.deepEqual(redacted, {
      bus: { brokers: ['k:9092'], sasl: { mechanism: 'plain', username: 'u', password: '[redacted]' } },
      storage: { type: 's3', accessKeyId: 'AKIA', secretAccessKey: '[redacted]' },
      signing: { keyId: 'ABCD', key: '[redacted]' },
      webhooks: [{ url: 'http://h', token: '[redacted]' }],
      buildKey: 'projects/a@bookworm.x86_64',
    });
    assert.equal(config.bus.sasl.password, 'p');
  });

  it('knows secret key names in any spelling', () => {
    for (const key of [
      'password',
      'PASSWORD',
      'secret_access_key',
      'githubToken',
      'api-key',
      'privateKey',
      'webhookSecret',
    ]) {
      assert.equal(isSecretKey(key), true, key);
    }
    for (const key of ['username', 'accessKeyId', 'buildKey', 'repoKey', 'keyId', 'bucket']) {
      assert.equal(isSecretKey(key), false, key);
    }
  });
});
