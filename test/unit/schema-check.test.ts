/** One compiled-schema cache (shared/schema) and one formatter of validation errors (schema-problem.ts), used by every check. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { storageSection } from '../../cli/client/store-choice.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { checkedValue, describeProblem, problemOf } from '../../shared/messages/index.ts';
import { PATTERN_PHRASE } from '../../shared/messages/schema-problem.ts';
import { compiledSchema, pointerPath } from '../../shared/schema/index.ts';
import { decodeStateRecord } from '../../scheduler/state/state-records.ts';

const Schema = Type.Object({
  name: Type.String({ pattern: '^[a-z]+$', [PATTERN_PHRASE]: 'a name of lower-case letters' }),
  targets: Type.Array(Type.Object({ arch: Type.String() })),
});

describe('compiled schemas', () => {
  it('compiles a schema once and keeps the check', () => {
    const first = compiledSchema(Schema);
    assert.equal(compiledSchema(Schema), first);
    assert.equal(first.Check({ name: 'a', targets: [] }), true);
    assert.notEqual(compiledSchema(Type.String()), compiledSchema(Type.String()), 'keyed by the schema object');
  });

  it('turns JSON pointers into paths', () => {
    assert.deepEqual(pointerPath(''), []);
    assert.deepEqual(pointerPath('/targets/0/arch'), ['targets', 0, 'arch']);
    assert.deepEqual(pointerPath('/a~1b/c~0d'), ['a/b', 'c~d']);
  });
});

describe('the validation-error formatter', () => {
  it('names the field and the problem, with the schema’s own phrase for a pattern', () => {
    assert.equal(problemOf(Schema, { name: 'a', targets: [] }), undefined);
    const problem = problemOf(Schema, { name: 'a', targets: [{ arch: 7 }] });
    assert.deepEqual(problem, { field: 'targets[0].arch', reason: 'must be a string' });
    assert.equal(describeProblem({ field: '', reason: 'must be an object' }), 'must be an object');
    assert.deepEqual(problemOf(Schema, { name: 'A1', targets: [] }), {
      field: 'name',
      reason: 'must be a name of lower-case letters',
    });
  });

  it('checkedValue returns the value typed, or throws what the caller makes of the problem', () => {
    const value = { name: 'a', targets: [] };
    assert.equal(
      checkedValue(Schema, value, () => new Error('no')),
      value,
    );
    assert.throws(
      () => checkedValue(Schema, { targets: [] }, (problem) => new Error(describeProblem(problem))),
      /^Error: name is required$/,
    );
  });

  it('phrases the CLI’s --store check and the scheduler’s state records the same way', () => {
    assert.throws(
      () => storageSection({ storage: { type: 's3', bucket: 'b', endpoint: 7 } }, 's.yml'),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') &&
        error.message === '--store s.yml: storage.endpoint must be a string',
    );
    assert.throws(
      () => decodeStateRecord({ v: 1, type: 'scheduler.cursor', name: 'watch', commit: 5 }),
      (error: unknown) =>
        isBuildfleetError(error, 'message-invalid') &&
        error.message === 'scheduler state record: commit must be a string',
    );
  });
});
