import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { BusConfig, LogConfig, MetricsConfig, StorageConfig, serviceConfig } from '../../shared/config/index.ts';

describe('serviceConfig', () => {
  const Own = Type.Object({ id: Type.Optional(Type.String()) });

  it('lists bus, storage, log, metrics, then the own sections, in that order', () => {
    const schema = serviceConfig({ storage: true, metrics: true }, { own: Own });
    assert.deepEqual(Object.keys(schema.properties), ['bus', 'storage', 'log', 'metrics', 'own']);
    assert.equal(schema.properties.bus, BusConfig);
    assert.equal(schema.properties.storage, StorageConfig);
    assert.equal(schema.properties.log, LogConfig);
    assert.equal(schema.properties.metrics, MetricsConfig);
    assert.equal(schema.properties.own, Own);
  });

  it('leaves out the sections a service does not have', () => {
    assert.deepEqual(Object.keys(serviceConfig({ storage: false, metrics: true }, { own: Own }).properties), [
      'bus',
      'log',
      'metrics',
      'own',
    ]);
    assert.deepEqual(Object.keys(serviceConfig({ storage: true, metrics: false }, { own: Own }).properties), [
      'bus',
      'storage',
      'log',
      'own',
    ]);
  });
});
