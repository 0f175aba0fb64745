import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { BusConfig, loadConfig } from '../../shared/config/index.ts';
import { isBuildfleetError, type BuildfleetError } from '../../shared/errors/index.ts';
import { suiteTempDir, writeFileIn } from '../harness/temp-files.ts';

const Schema = Type.Object({
  bus: BusConfig,
  runner: Type.Object({
    buildSlots: Type.Integer({ minimum: 1, default: 2 }),
    group: Type.String({ minLength: 1 }),
    mode: Type.Union([Type.Literal('container'), Type.Literal('chroot'), Type.Literal('host')], {
      default: 'container',
    }),
  }),
});

function configError(load: () => unknown): BuildfleetError {
  try {
    load();
  } catch (error) {
    assert.ok(isBuildfleetError(error, 'config-invalid'), `expected config-invalid, got ${String(error)}`);
    return error;
  }
  assert.fail('expected loadConfig to throw');
}

describe('loadConfig errors', () => {
  const dir = suiteTempDir('buildfleet-config-errors-');
  const writeYaml = (name: string, text: string): string => writeFileIn(dir.path, name, text);

  it('names the key, the rule and the variable with its value', () => {
    const error = configError(() =>
      loadConfig(Schema, { env: { BUILDFLEET_RUNNER_GROUP: 'g', BUILDFLEET_RUNNER_BUILD_SLOTS: 'x' } }),
    );
    assert.equal(
      error.message,
      'config: runner.buildSlots must be an integer >= 1 (from BUILDFLEET_RUNNER_BUILD_SLOTS="x")',
    );
    assert.equal(error.retriable, false);
  });

  it('names the file and line of a bad value', () => {
    const file = writeYaml('bad-value.yml', 'runner:\n  group: g\n  buildSlots: 0\n');
    const error = configError(() => loadConfig(Schema, { file, env: {} }));
    assert.equal(error.message, `config: runner.buildSlots must be an integer >= 1 (from ${file}:3)`);
  });

  it('names a missing required key and how to set it', () => {
    const file = writeYaml('missing.yml', 'runner:\n  buildSlots: 1\n');
    const error = configError(() => loadConfig(Schema, { file, env: {} }));
    assert.equal(error.message, `config: runner.group is required (set it in ${file} or as BUILDFLEET_RUNNER_GROUP)`);
  });

  it('reports every problem at once', () => {
    const error = configError(() =>
      loadConfig(Schema, {
        env: { BUILDFLEET_RUNNER_MODE: 'vm', BUILDFLEET_BUS_TYPE: 'nats', BUILDFLEET_RUNNER_GROUP: 'g' },
      }),
    );
    const lines = error.message.split('\n');
    assert.deepEqual(lines.sort(), [
      'config: bus.type must be one of "kafka", "embedded" (from BUILDFLEET_BUS_TYPE="nats")',
      'config: runner.mode must be one of "container", "chroot", "host" (from BUILDFLEET_RUNNER_MODE="vm")',
    ]);
    assert.equal((error.context['issues'] as unknown[]).length, 2);
  });

  it('never prints a secret value in a message', () => {
    const error = configError(() =>
      loadConfig(Schema, {
        env: {
          BUILDFLEET_RUNNER_GROUP: 'g',
          BUILDFLEET_BUS_SASL: '{"mechanism":"kerberos","username":"u","password":"hunter2"}',
          BUILDFLEET_BUS_SASL_PASSWORD: '',
        },
      }),
    );
    assert.match(error.message, /bus\.sasl\.mechanism must be one of "plain", "scram-sha-256", "scram-sha-512"/);
    assert.doesNotMatch(error.message, /hunter2/);
  });

  it('rejects unknown keys in the file, with line and a suggestion', () => {
    const file = writeYaml('typo.yml', 'runner:\n  group: g\n  buildSlot: 4\nbus:\n  topicprefix: x\n  zzz: 1\n');
    const error = configError(() => loadConfig(Schema, { file, env: {} }));
    assert.deepEqual(error.message.split('\n'), [
      `config: unknown key runner.buildSlot (from ${file}:3); did you mean runner.buildSlots?`,
      `config: unknown key bus.topicprefix (from ${file}:5); did you mean bus.topicPrefix?`,
      `config: unknown key bus.zzz (from ${file}:6)`,
    ]);
  });

  it('names the file and line of invalid YAML', () => {
    const file = writeYaml('broken.yml', 'runner:\n  group: g\n  buildSlots: [1, 2\nbus: {}\n');
    const error = configError(() => loadConfig(Schema, { file, env: {} }));
    assert.match(error.message, new RegExp(`^config: ${file}:\\d+:\\d+: invalid YAML: `));
    assert.equal(typeof error.context['line'], 'number');
  });

  it('rejects duplicate keys in the file', () => {
    const file = writeYaml('duplicate.yml', 'runner:\n  group: a\n  group: b\n');
    const error = configError(() => loadConfig(Schema, { file, env: {} }));
    assert.match(error.message, new RegExp(`^config: ${file}:3:\\d+: invalid YAML: .*unique`));
  });

  it('rejects a file that is not a mapping', () => {
    const file = writeYaml('list.yml', '- a\n- b\n');
    const error = configError(() => loadConfig(Schema, { file, env: {} }));
    assert.equal(error.message, `config: ${file} must hold a mapping of keys at the top level`);
  });

  it('names a file it cannot read', () => {
    const file = join(dir.path, 'does-not-exist.yml');
    const error = configError(() => loadConfig(Schema, { file, env: {} }));
    assert.match(error.message, new RegExp(`^config: cannot read ${file}: ENOENT`));
  });
});
