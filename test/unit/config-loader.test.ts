import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type, type Static } from '@sinclair/typebox';
import { envNameFor, loadConfig, loadConfigWithSources } from '../../shared/config/index.ts';
import { suiteTempDir, writeFileIn } from '../harness/temp-files.ts';

const RunnerSchema = Type.Object({
  name: Type.String({ default: 'runner' }),
  runner: Type.Object({
    buildSlots: Type.Integer({ minimum: 1, default: 2 }),
    group: Type.String({ default: 'default' }),
    archs: Type.Array(Type.String(), { default: ['x86_64'] }),
    ports: Type.Array(Type.Integer(), { default: [] }),
    dryRun: Type.Boolean({ default: false }),
    labels: Type.Record(Type.String(), Type.String(), { default: {} }),
  }),
  build: Type.Object({
    timeout: Type.Number({ default: 3600 }),
  }),
  extra: Type.Optional(Type.Object({ note: Type.String() })),
});
type RunnerConfig = Static<typeof RunnerSchema>;

describe('loadConfig', () => {
  const dir = suiteTempDir('buildfleet-config-');
  const writeYaml = (name: string, text: string): string => writeFileIn(dir.path, name, text);

  it('fills every field from the schema defaults when nothing is set', () => {
    const config = loadConfig(RunnerSchema, { env: {} });
    assert.deepEqual(config, {
      name: 'runner',
      runner: { buildSlots: 2, group: 'default', archs: ['x86_64'], ports: [], dryRun: false, labels: {} },
      build: { timeout: 3600 },
    });
  });

  it('layers defaults <- file <- environment', () => {
    const file = writeYaml('layers.yml', 'runner:\n  buildSlots: 4\n  group: arm\nbuild:\n  timeout: 60\n');
    const config = loadConfig(RunnerSchema, {
      file,
      env: { BUILDFLEET_RUNNER_GROUP: 'gpu' },
      defaults: { name: 'from-defaults', runner: { buildSlots: 3, archs: ['aarch64'] } },
    });
    assert.equal(config.name, 'from-defaults');
    assert.equal(config.runner.buildSlots, 4);
    assert.equal(config.runner.group, 'gpu');
    assert.deepEqual(config.runner.archs, ['aarch64']);
    assert.equal(config.build.timeout, 60);
  });

  it('maps UPPER_SNAKE variables onto camelCase keys and converts them by type', () => {
    // Each variable with its value, where it lands and what it becomes; all are set at once.
    const cases: [variable: string, value: string, read: (config: RunnerConfig) => unknown, expected: unknown][] = [
      ['BUILDFLEET_RUNNER_BUILD_SLOTS', '8', (c) => c.runner.buildSlots, 8],
      ['BUILDFLEET_RUNNER_ARCHS', 'x86_64, aarch64,,', (c) => c.runner.archs, ['x86_64', 'aarch64']],
      ['BUILDFLEET_RUNNER_PORTS', '80,443', (c) => c.runner.ports, [80, 443]],
      ['BUILDFLEET_RUNNER_DRY_RUN', 'TRUE', (c) => c.runner.dryRun, true],
      ['BUILDFLEET_RUNNER_LABELS', '{"zone":"eu-1"}', (c) => c.runner.labels, { zone: 'eu-1' }],
      ['BUILDFLEET_BUILD_TIMEOUT', '1.5', (c) => c.build.timeout, 1.5],
      ['BUILDFLEET_EXTRA', '{"note":"hi"}', (c) => c.extra, { note: 'hi' }],
    ];
    const env = Object.fromEntries(cases.map(([variable, value]) => [variable, value]));
    const config = loadConfig(RunnerSchema, { env });
    for (const [variable, , read, expected] of cases) assert.deepEqual(read(config), expected, variable);
  });

  it('reads 1/0 as booleans and an empty list variable as an empty list', () => {
    const on = loadConfig(RunnerSchema, { env: { BUILDFLEET_RUNNER_DRY_RUN: '1', BUILDFLEET_RUNNER_ARCHS: '' } });
    assert.equal(on.runner.dryRun, true);
    assert.deepEqual(on.runner.archs, []);
    const off = loadConfig(RunnerSchema, { env: { BUILDFLEET_RUNNER_DRY_RUN: '0' } });
    assert.equal(off.runner.dryRun, false);
  });

  it('prefers the longest key match and backtracks when it leads nowhere', () => {
    const Schema = Type.Object({
      build: Type.Object({ slots: Type.Integer({ default: 0 }), timeout: Type.Integer({ default: 0 }) }),
      buildSlots: Type.Integer({ default: 0 }),
    });
    const config = loadConfig(Schema, { env: { BUILDFLEET_BUILD_SLOTS: '5', BUILDFLEET_BUILD_TIMEOUT: '7' } });
    assert.deepEqual(config, { build: { slots: 0, timeout: 7 }, buildSlots: 5 });
  });

  it('applies a whole object from JSON before the variables of its keys', () => {
    const config = loadConfig(RunnerSchema, {
      env: { BUILDFLEET_RUNNER: '{"buildSlots":6,"group":"json"}', BUILDFLEET_RUNNER_GROUP: 'direct' },
    });
    assert.equal(config.runner.buildSlots, 6);
    assert.equal(config.runner.group, 'direct');
  });

  it('ignores prefixed variables that match no key and lists them', () => {
    const loaded = loadConfigWithSources(RunnerSchema, {
      env: {
        BUILDFLEET_BROKERS: 'a:1',
        BUILDFLEET_RUNNER_NOPE: 'x',
        BUILDFLEET_: 'x',
        PATH: '/bin',
        OTHER_RUNNER_GROUP: 'y',
      },
    });
    assert.deepEqual(loaded.ignoredEnv, ['BUILDFLEET_', 'BUILDFLEET_BROKERS', 'BUILDFLEET_RUNNER_NOPE']);
    assert.equal(loaded.config.runner.group, 'default');
  });

  it('records where each value came from', () => {
    const file = writeYaml('sources.yml', 'name: from-file\nrunner:\n  group: g\n');
    const loaded = loadConfigWithSources(RunnerSchema, {
      file,
      env: { BUILDFLEET_RUNNER_BUILD_SLOTS: '9' },
      defaults: { build: { timeout: 5 } },
    });
    assert.deepEqual(loaded.sources.get('name'), { kind: 'file', file, line: 1 });
    assert.deepEqual(loaded.sources.get('runner.group'), { kind: 'file', file, line: 3 });
    assert.deepEqual(loaded.sources.get('runner.buildSlots'), {
      kind: 'env',
      name: 'BUILDFLEET_RUNNER_BUILD_SLOTS',
      value: '9',
    });
    assert.deepEqual(loaded.sources.get('build.timeout'), { kind: 'defaults' });
  });

  it('honours another prefix and reads process.env when no env is given', () => {
    const prefix = `BFTEST${process.pid}_`;
    process.env[`${prefix}RUNNER_GROUP`] = 'from-process-env';
    try {
      assert.equal(loadConfig(RunnerSchema, { prefix }).runner.group, 'from-process-env');
      assert.equal(loadConfig(RunnerSchema, { prefix, env: {} }).runner.group, 'default');
    } finally {
      delete process.env[`${prefix}RUNNER_GROUP`];
    }
  });

  it('accepts an empty file', () => {
    const file = writeYaml('empty.yml', '# nothing here\n');
    assert.equal(loadConfig(RunnerSchema, { file, env: {} }).runner.buildSlots, 2);
  });

  it('names variables for key paths', () => {
    assert.equal(envNameFor(['runner', 'buildSlots']), 'BUILDFLEET_RUNNER_BUILD_SLOTS');
    assert.equal(envNameFor(['storage', 'accessKeyId']), 'BUILDFLEET_STORAGE_ACCESS_KEY_ID');
    assert.equal(envNameFor(['bus', 'topicPrefix'], 'X_'), 'X_BUS_TOPIC_PREFIX');
  });
});
