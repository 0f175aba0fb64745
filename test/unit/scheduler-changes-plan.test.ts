import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  basesToCompare,
  describeReason,
  distOfPath,
  planRebuilds,
  type PackageAtHead,
  type RebuildPlanInput,
} from '../../scheduler/changes/plan.ts';
import { submitFor } from '../../scheduler/changes/watcher.ts';
import { decodeMessage } from '../../shared/messages/index.ts';

const OLD = '1'.repeat(40);
const OLDER = '2'.repeat(40);
const HEAD = 'f'.repeat(40);

const deb: PackageAtHead = { project: 'projects/demo/hello-deb', dists: ['bookworm'] };
const rpm: PackageAtHead = { project: 'projects/demo/hello-rpm', dists: ['rpm-bookworm'] };
const both: PackageAtHead = { project: 'projects/tools/both', dists: ['bookworm', 'rpm-bookworm'] };
const packages = [rpm, deb, both];

/** Every package last built at OLD, and these paths changed from OLD to HEAD. */
function since(paths: string[], overrides: Partial<RebuildPlanInput> = {}): RebuildPlanInput {
  return {
    head: HEAD,
    packages,
    builtAt: new Map(packages.map((spec) => [spec.project, OLD])),
    changedSince: new Map([[OLD, paths]]),
    ...overrides,
  };
}

function planned(input: RebuildPlanInput): string[] {
  return planRebuilds(input).map((decision) => decision.project);
}

describe('change detection plan', () => {
  it('builds every package when nothing was built yet (first start), sorted by project', () => {
    const decisions = planRebuilds(since([], { builtAt: new Map() }));
    assert.deepEqual(
      decisions.map((decision) => decision.project),
      ['projects/demo/hello-deb', 'projects/demo/hello-rpm', 'projects/tools/both'],
    );
    assert.ok(decisions.every((decision) => decision.reason.kind === 'never-built'));
  });

  it('rebuilds a package for a change anywhere inside its directory, metadata included', () => {
    assert.deepEqual(planned(since(['projects/demo/hello-deb/hello-deb.c'])), [deb.project]);
    assert.deepEqual(planned(since(['projects/demo/hello-rpm/buildfleet.yml'])), [rpm.project]);
    assert.deepEqual(planned(since(['projects/tools/both/.cb/cloud_builder.yml'])), [both.project]);
    assert.deepEqual(planned(since(['projects/demo/hello-deb/debian/source/format'])), [deb.project]);
    const [decision] = planRebuilds(since(['projects/demo/hello-deb/Makefile', 'README.md']));
    assert.deepEqual(decision?.reason, {
      kind: 'package-changed',
      base: OLD,
      paths: ['projects/demo/hello-deb/Makefile'],
    });
  });

  it('does not take a sibling directory with the same prefix for the package', () => {
    assert.deepEqual(planned(since(['projects/demo/hello-deb-extra/x.c', 'projects/demo/hello-deb'])), []);
  });

  it('rebuilds every package with a target of a dist whose file changed', () => {
    assert.deepEqual(planned(since(['dists/bookworm.yml'])), [deb.project, both.project]);
    assert.deepEqual(planned(since(['dists/rpm-bookworm.yml'])), [rpm.project, both.project]);
    const decisions = planRebuilds(since(['dists/bookworm.yml', 'dists/rpm-bookworm.yml']));
    assert.deepEqual(decisions.find((decision) => decision.project === both.project)?.reason, {
      kind: 'dist-changed',
      base: OLD,
      dists: ['bookworm', 'rpm-bookworm'],
    });
    assert.deepEqual(planned(since(['dists/trixie.yml'])), []);
  });

  it('builds nothing for changes outside packages and dist files', () => {
    assert.deepEqual(
      planned(since(['README.md', 'docs/x.md', 'projects/demo/README', 'dists/notes/bookworm.yml'])),
      [],
    );
    assert.deepEqual(planned(since([])), []);
  });

  it('builds a package new since the old commit: unknown to the cursors, or all its files added', () => {
    const added: PackageAtHead = { project: 'projects/new/pkg', dists: ['bookworm'] };
    const withNew = [...packages, added];
    const unknown = since(['projects/new/pkg/buildfleet.yml'], { packages: withNew });
    assert.deepEqual(planRebuilds(unknown), [{ project: added.project, reason: { kind: 'never-built' } }]);
    // Re-added after a deletion: its old cursor is still there, the diff names its files.
    const readded = since(['projects/new/pkg/buildfleet.yml', 'projects/new/pkg/x.c'], {
      packages: withNew,
      builtAt: new Map(withNew.map((spec) => [spec.project, OLD])),
    });
    assert.deepEqual(planned(readded), [added.project]);
  });

  it('does not build a package deleted since: it is not among the packages at head', () => {
    const input = since(['projects/demo/hello-rpm/buildfleet.yml', 'projects/demo/hello-rpm/hello-rpm.spec'], {
      packages: [deb, both],
    });
    assert.deepEqual(planned(input), []);
  });

  it('compares each package with its own last built commit', () => {
    const input: RebuildPlanInput = {
      head: HEAD,
      packages,
      builtAt: new Map([
        [deb.project, OLDER],
        [rpm.project, OLD],
        [both.project, HEAD],
      ]),
      changedSince: new Map([
        [OLDER, ['projects/demo/hello-deb/hello-deb.c', 'projects/tools/both/x']],
        [OLD, ['projects/tools/both/x']],
      ]),
    };
    assert.deepEqual(basesToCompare(input), [OLD, OLDER]);
    // hello-deb changed since OLDER; hello-rpm did not since OLD; both was built at HEAD already.
    assert.deepEqual(planned(input), [deb.project]);
  });

  it('builds the packages whose last built commit cannot be compared (history rewritten)', () => {
    const input = since([], {
      builtAt: new Map([
        [deb.project, OLDER],
        [rpm.project, OLD],
        [both.project, OLD],
      ]),
    });
    const decisions = planRebuilds(input);
    assert.deepEqual(decisions, [{ project: deb.project, reason: { kind: 'base-unavailable', base: OLDER } }]);
    assert.match(describeReason(decisions[0]!.reason), /cannot be compared/);
  });

  it('reads dist names from dist file paths only', () => {
    assert.equal(distOfPath('dists/bookworm.yml'), 'bookworm');
    assert.equal(distOfPath('dists/rpm-bookworm.yml'), 'rpm-bookworm');
    assert.equal(distOfPath('dists/bookworm.yaml'), undefined);
    assert.equal(distOfPath('dists/x/bookworm.yml'), undefined);
    assert.equal(distOfPath('dists/.yml'), undefined);
    assert.equal(distOfPath('projects/dists/bookworm.yml'), undefined);
  });

  it('makes one valid, deterministic build.submit per package and commit', () => {
    const submit = submitFor(deb.project, HEAD, '2025-01-02T03:04:05.000Z');
    assert.deepEqual(submit, {
      v: 1,
      type: 'build.submit',
      submitId: `change:${deb.project}@${HEAD}`,
      project: deb.project,
      ref: HEAD,
      reason: 'source-change',
      requestedBy: 'git-watcher',
      at: '2025-01-02T03:04:05.000Z',
    });
    assert.deepEqual(decodeMessage('build.submit', submit), submit);
  });
});
