import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changelogHead, debRebuildEntry, rebuildText, rpmRebuildSpec } from '../../runner/builders/rebuild-version.ts';

const DATE = new Date('2026-12-07T02:30:00Z');
const note = { number: 2, text: 'Rebuild against libbfgreet-dev 1.1-1' };

describe('rebuild versions', () => {
  it('names the installed packages of the builds the rebuild is for', () => {
    const against = [
      { package: 'libbfgreet-dev', version: '1.1-1', buildId: 'b-lib' },
      { package: 'libother-dev', version: '3-1', buildId: 'b-other' },
    ];
    assert.equal(
      rebuildText(against, [{ project: 'projects/greet/libbfgreet', buildId: 'b-lib' }]),
      'Rebuild against libbfgreet-dev 1.1-1',
    );
    assert.equal(
      rebuildText([], [{ project: 'projects/greet/libbfgreet', buildId: 'b-lib' }]),
      'Rebuild against new builds of projects/greet/libbfgreet (build b-lib)',
    );
    // A rebuild asked for (buildfleet rebuild, build --all) has no dependency builds to name.
    assert.equal(rebuildText(against, []), 'Rebuild of the same sources, as asked (buildfleet rebuild or build --all)');
  });

  it('deb: a binNMU-style version and a changelog entry dpkg can parse', () => {
    const head = changelogHead('bfgreet (1.0-1) unstable; urgency=medium\n\n  * Initial.\n', 'debian/changelog');
    assert.deepEqual(head, { source: 'bfgreet', version: '1.0-1', distribution: 'unstable' });
    const { version, entry } = debRebuildEntry(head.source, head.version, head.distribution, note, DATE);
    assert.equal(version, '1.0-1+b2');
    assert.equal(
      entry,
      'bfgreet (1.0-1+b2) unstable; urgency=low, binary-only=yes\n\n  * Rebuild against libbfgreet-dev 1.1-1.\n\n' +
        ' -- buildfleet <buildfleet@buildfleet.invalid>  Mon, 07 Dec 2026 02:30:00 +0000\n\n',
    );
    assert.throws(() => changelogHead('not a changelog', 'x/debian/changelog'), /x\/debian\/changelog/);
  });

  it('rpm: the release gets .b<N> and %changelog an entry on top', () => {
    const spec =
      'Name: bfgreet\nVersion: 1.0\nRelease:        1%{?dist}\n\n%changelog\n* Sun Dec 06 2026 A <a@b> - 1.0-1\n- Initial.\n';
    const rebuilt = rpmRebuildSpec(spec, note, DATE, 'bfgreet.spec');
    assert.match(rebuilt, /^Release: {8}1%\{\?dist\}\.b2$/m);
    assert.match(
      rebuilt,
      /%changelog\n\* Mon Dec 07 2026 buildfleet <buildfleet@buildfleet\.invalid>\n- Rebuild against libbfgreet-dev 1\.1-1\n\n\* Sun Dec 06/,
    );
    assert.match(rpmRebuildSpec('Name: x\nRelease: 3\n', note, DATE, 'x.spec'), /Release: 3\.b2\n\n%changelog\n\* Mon/);
    assert.throws(() => rpmRebuildSpec('Name: x\n', note, DATE, 'x.spec'), /x\.spec: no Release tag/);
  });
});
