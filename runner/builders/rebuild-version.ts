/**
 * Versions of rebuilds (issue 12, DESIGN.md §12): a rebuild of the same sources against new
 * versions of our own packages must give binaries with a higher version than the last published
 * ones, so `apt-get upgrade` and `dnf upgrade` take them. deb: a binNMU, `<version>+b<N>` with a
 * `binary-only=yes` changelog entry saying what it was rebuilt against (built with
 * `dpkg-buildpackage -b`: the source package stays the one published before); rpm: the release gets `.b<N>` and the
 * %changelog an entry. N is the rebuild number the scheduler keeps per build key. Pure.
 */
import { BuildfleetError } from '../../shared/errors/index.ts';

/** What a rebuild says about itself. */
export interface RebuildNote {
  /** The rebuild number (build.request `rebuild.number`). */
  number: number;
  /** `Rebuild against libfoo-dev 1.1-1, libfoo1 1.1-1`. */
  text: string;
}

const MAINTAINER = 'buildfleet <buildfleet@buildfleet.invalid>';

/** `Rebuild against a 1.1-1, b 2.0-1` from the packages installed of the builds the rebuild is for. */
export function rebuildText(
  against: ReadonlyArray<{ package: string; version: string; buildId?: string }>,
  because: ReadonlyArray<{ project: string; buildId: string }>,
): string {
  const builds = new Set(because.map((b) => b.buildId));
  const named = against.filter((a) => a.buildId !== undefined && builds.has(a.buildId));
  if (named.length > 0) return `Rebuild against ${named.map((a) => `${a.package} ${a.version}`).join(', ')}`;
  if (because.length === 0) return 'Rebuild of the same sources, as asked (buildfleet rebuild or build --all)';
  return `Rebuild against new builds of ${because.map((b) => `${b.project} (build ${b.buildId})`).join(', ')}`;
}

/** The first stanza's header of a debian/changelog: `hello (1.0-1) unstable; urgency=medium`. */
const CHANGELOG_HEADER = /^(\S+) \(([^()\s]+)\) ([^;]+);/;

/**
 * The changelog entry that makes a deb rebuild `<version>+b<N>`, to go before the first stanza of
 * debian/changelog. `version` is the current version (from debian/changelog or the .dsc).
 */
export function debRebuildEntry(
  source: string,
  version: string,
  distribution: string,
  note: RebuildNote,
  date: Date,
): { version: string; entry: string } {
  const rebuilt = `${version}+b${note.number}`;
  const when = date.toUTCString().replace(/GMT$/, '+0000');
  return {
    version: rebuilt,
    entry: `${source} (${rebuilt}) ${distribution}; urgency=low, binary-only=yes\n\n  * ${note.text}.\n\n -- ${MAINTAINER}  ${when}\n\n`,
  };
}

/** Source, version and distribution of the newest stanza of a debian/changelog. */
export function changelogHead(text: string, file: string): { source: string; version: string; distribution: string } {
  const first = text.split(/\r?\n/).find((line) => line.trim() !== '');
  const match = first === undefined ? null : CHANGELOG_HEADER.exec(first);
  if (match === null) {
    throw new BuildfleetError('metadata-invalid', `${file}: the first line is not a changelog header`, {
      context: { file },
    });
  }
  return { source: match[1] ?? '', version: match[2] ?? '', distribution: (match[3] ?? '').trim() };
}

/** A spec whose release ends in `.b<N>` and whose %changelog starts with the rebuild's entry. */
export function rpmRebuildSpec(spec: string, note: RebuildNote, date: Date, file: string): string {
  const release = /^(Release\s*:\s*)(\S.*?)\s*$/im;
  if (!release.test(spec)) {
    throw new BuildfleetError('metadata-invalid', `${file}: no Release tag to add the rebuild suffix to`, {
      context: { file, field: 'Release' },
    });
  }
  const suffixed = spec.replace(release, (_all, tag: string, value: string) => `${tag}${value}.b${note.number}`);
  const day = date.toUTCString().split(' ');
  // rpm's changelog date: `Mon Dec 07 2026`.
  const when = `${(day[0] ?? '').replace(',', '')} ${day[2] ?? ''} ${day[1] ?? ''} ${day[3] ?? ''}`;
  const entry = `* ${when} ${MAINTAINER}\n- ${note.text}\n\n`;
  const changelog = /^%changelog[ \t]*\r?\n/im;
  if (changelog.test(suffixed)) return suffixed.replace(changelog, (line) => `${line}${entry}`);
  return `${suffixed.replace(/\s*$/, '')}\n\n%changelog\n${entry}`;
}
