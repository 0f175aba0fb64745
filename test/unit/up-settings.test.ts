import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { upSettings, type UpSettingsInput } from '../../cli/up/settings.ts';
import { CollectorSettings } from '../../collector/config.ts';
import { InfoSettings } from '../../info-service/config.ts';
import { RunnerSettings } from '../../runner/config.ts';
import { SchedulerSettings } from '../../scheduler/config.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { instanceIdOf } from '../../shared/lifecycle/index.ts';

const input: UpSettingsInput = {
  dataDir: '/data',
  host: '127.0.0.1',
  port: 8080,
  sourcesUrl: '/data/sources',
  auth: { anonymous: 'read', tokensFile: '/data/tokens.json' },
};
const defaults = {
  runner: loadConfig(RunnerSettings, { env: {} }),
  collector: loadConfig(CollectorSettings, { env: {} }),
  info: loadConfig(InfoSettings, { env: {} }),
  scheduler: loadConfig(SchedulerSettings, { env: {} }),
};

describe('the settings of buildfleet up', () => {
  it('take every value up does not choose from the services config schemas', () => {
    const settings = upSettings(input);
    assert.deepEqual(settings.runner, {
      ...defaults.runner,
      id: 'up',
      graceMs: 10_000,
      workDir: join('/data', 'work', 'runner'),
      cacheDir: join('/data', 'cache'),
      allowHostBuilds: true,
    });
    assert.deepEqual(settings.collector, {
      ...defaults.collector,
      id: 'up',
      publicUrl: 'http://127.0.0.1:8080/repos',
      coalesceMs: 200,
      workDir: join('/data', 'work', 'collector'),
    });
    assert.deepEqual(settings.info, {
      ...defaults.info,
      id: 'up',
      http: { host: '127.0.0.1', port: 8080, allowedHosts: [] },
      auth: { anonymous: 'read', tokensFile: '/data/tokens.json', tokens: [] },
      publicUrl: 'http://127.0.0.1:8080/repos',
      sources: { url: '/data/sources', branch: 'main', workDir: join('/data', 'work', 'info-service') },
    });
    assert.deepEqual(settings.scheduler, {
      ...defaults.scheduler,
      id: 'up',
      workDir: join('/data', 'work', 'scheduler'),
      sources: { ...defaults.scheduler.sources, url: '/data/sources', pollIntervalMs: 5000 },
    });
  });

  it('apply its options to the services they belong to', () => {
    const settings = upSettings({
      ...input,
      branch: 'next',
      pollIntervalMs: 250,
      leaseMs: 20_000,
      slots: 3,
      arches: ['aarch64'],
      buildroot: 'host',
      engineSocket: '/run/engine.sock',
      signingKeyFile: '/data/signing-key.asc',
    });
    assert.equal(settings.scheduler.sources.branch, 'next');
    assert.equal(settings.info.sources?.branch, 'next');
    assert.equal(settings.scheduler.sources.pollIntervalMs, 250);
    assert.equal(settings.scheduler.leaseMs, 20_000);
    assert.equal(settings.runner.slots, 3);
    assert.deepEqual(settings.runner.arches, ['aarch64']);
    assert.equal(settings.runner.buildroot, 'host');
    assert.equal(settings.runner.engineSocket, '/run/engine.sock');
    assert.equal(settings.collector.signing.keyFile, '/data/signing-key.asc');
    assert.equal(settings.collector.signing.keyEnv, defaults.collector.signing.keyEnv);
  });

  it('are checked by the schemas: a bad option is config-invalid naming the key', () => {
    assert.throws(
      () => upSettings({ ...input, slots: 0 }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && /slots/.test(error.message),
    );
    assert.throws(
      () => upSettings({ ...input, port: Number('x') }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && /port/.test(error.message),
    );
  });
});

describe('instanceIdOf', () => {
  it('is the configured id, else <hostname>-<pid>', () => {
    assert.equal(instanceIdOf('runner-7'), 'runner-7');
    assert.equal(instanceIdOf(undefined), `${hostname()}-${process.pid}`);
  });
});
