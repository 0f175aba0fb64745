import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareEvr, formatEvr, rpmvercmp } from '../../collector/rpm/index.ts';

// Expected values checked against rpm 4.18 itself: rpm --eval "%{lua: print(rpm.vercmp('a','b'))}".
const CASES: ReadonlyArray<readonly [string, string, -1 | 0 | 1]> = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['2.0.1', '2.0', 1],
  ['5.5p10', '5.5p2', 1],
  ['10xyz', '10.1xyz', -1],
  ['xyz10', 'xyz10.1', -1],
  ['xyz.4', '8', -1],
  ['8', 'xyz.4', 1],
  ['6.0.rc1', '6.0', 1],
  ['1.0a', '1.0aa', -1],
  ['10.0001', '10.1', 0],
  ['2.0', '2_0', 0],
  ['a+', 'a_', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0^', '1.0', 1],
  ['1.0^git1', '1.01', -1],
  ['1.0^20160101', '1.0.1', -1],
  ['1.0^20160101^git1', '1.0^20160101', 1],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0^git1~pre', '1.0', 1],
  ['1.0^git1~pre', '1.0^git1', -1],
  ['1b.fc17', '1.fc17', -1],
  ['1.0', '1.0.', 0],
  ['1.0.0', '1.0', 1],
  ['a', '1', -1],
  ['~', '^', -1],
  ['^', '~', 1],
  ['1.0', '1.0^', -1],
  ['00', '0', 0],
  ['1a', '1', 1],
  ['1', '1a', -1],
  ['99999999999999999999', '100000000000000000000', -1],
];

describe('rpmvercmp', () => {
  for (const [a, b, expected] of CASES) {
    it(`${a} vs ${b} is ${expected}`, () => {
      assert.equal(rpmvercmp(a, b), expected);
      // The order is antisymmetric, so every case checks its mirror too.
      assert.equal(rpmvercmp(b, a), -expected || 0);
    });
  }
});

describe('compareEvr', () => {
  it('compares the epoch first, a missing epoch counting as 0', () => {
    assert.equal(compareEvr({ epoch: 1, version: '1.0', release: '1' }, { version: '9.0', release: '9' }), 1);
    assert.equal(compareEvr({ epoch: 0, version: '1.0', release: '1' }, { version: '1.0', release: '1' }), 0);
  });

  it('compares the release when the versions are equal', () => {
    assert.equal(compareEvr({ version: '1.0', release: '2.el9' }, { version: '1.0', release: '10.el9' }), -1);
    assert.equal(compareEvr({ version: '1.1', release: '1' }, { version: '1.0', release: '10' }), 1);
  });

  it('formats epoch:version-release without a zero epoch', () => {
    assert.equal(formatEvr({ version: '1.0', release: '1' }), '1.0-1');
    assert.equal(formatEvr({ epoch: 0, version: '1.0', release: '1' }), '1.0-1');
    assert.equal(formatEvr({ epoch: 2, version: '1.0', release: '1' }), '2:1.0-1');
  });
});
