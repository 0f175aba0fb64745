/** Assertions on the errors buildfleet throws. */
import assert from 'node:assert/strict';
import { isBuildfleetError, type BuildfleetError } from '../../shared/errors/index.ts';

/** The BuildfleetError `promise` rejects with; fails when it resolves (`expected` says what was expected). */
export async function rejection(promise: Promise<unknown>, expected = 'a rejection'): Promise<BuildfleetError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isBuildfleetError(error), `expected a BuildfleetError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${expected}`);
}
