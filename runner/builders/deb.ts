/**
 * The deb builder: `dpkg-buildpackage -us -uc` (binary and source packages, unsigned) from the
 * package's debian/ directory, or from a .dsc and the files it lists. docs/builders.md.
 */
import { BuildfleetError } from '../../shared/errors/index.ts';
import { controlParagraphs, debianArchOf, debianBuildDepends, type PackageSpec } from '../../shared/sources/index.ts';
import { collectArtifacts } from './artifacts.ts';
import { readPackageFile, runBuildScript } from './build-step.ts';
import { DEB_BUILD_SCRIPT } from './deb-script.ts';
import { changelogHead, debRebuildEntry, type RebuildNote } from './rebuild-version.ts';
import type { BuildrootBuildContext, Builder } from './types.ts';

/** Debian source package names (Debian policy 5.6.1); also safe as a directory name in the script. */
const SOURCE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** The file the package is built from: debian/control, or the .dsc when there is no debian/ directory. */
function controlFileOf(pkg: PackageSpec): { file: string; dsc: boolean } {
  if (pkg.files.debianControl !== undefined) return { file: pkg.files.debianControl, dsc: false };
  if (pkg.files.dsc !== undefined) return { file: pkg.files.dsc, dsc: true };
  throw new BuildfleetError('metadata-invalid', `${pkg.metadataFile}: ${pkg.project} has no debian/control or .dsc`, {
    context: { file: pkg.metadataFile },
  });
}

/** The Source field of the control file's first paragraph. */
function sourceNameOf(pkg: PackageSpec, file: string, text: string): string {
  const [first] = controlParagraphs(text);
  const name = first?.get('source')?.trim();
  if (name === undefined || !SOURCE_NAME.test(name)) {
    const why = name === undefined ? 'is missing' : `is "${name}", not a Debian source package name`;
    throw new BuildfleetError('metadata-invalid', `${pkg.project}/${file}: field "Source" ${why}`, {
      context: { file: `${pkg.project}/${file}`, field: 'Source' },
    });
  }
  return name;
}

export function createDebBuilder(): Builder<BuildrootBuildContext> {
  return {
    kind: 'deb',

    async buildDeps(pkg, target) {
      const { file } = controlFileOf(pkg);
      const text = await readPackageFile(pkg, file);
      const relations = debianBuildDepends(text, { arch: debianArchOf(target.arch), file: `${pkg.project}/${file}` });
      // Checked here rather than mid-build: a control file without Source cannot be built at all.
      sourceNameOf(pkg, file, text);
      return relations;
    },

    async build(ctx) {
      const { file, dsc } = controlFileOf(ctx.pkg);
      const text = await readPackageFile(ctx.pkg, file, ctx.srcDir);
      const source = sourceNameOf(ctx.pkg, file, text);
      const entry = ctx.rebuild ? await rebuildEntry(ctx, ctx.rebuild, source, dsc ? text : undefined) : undefined;
      await runBuildScript(ctx, {
        tool: 'dpkg-buildpackage',
        script: DEB_BUILD_SCRIPT,
        env: {
          BUILDFLEET_DEB_SOURCE: source,
          ...(dsc ? { BUILDFLEET_DEB_DSC: file } : {}),
          ...(entry === undefined ? {} : { BUILDFLEET_DEB_CHANGELOG_ENTRY: entry }),
        },
      });
    },

    collect: collectArtifacts,
  };
}

/**
 * The changelog stanza of a rebuild: the version of debian/changelog (or of the .dsc) with
 * `+b<N>`. A .dsc has no distribution: `unstable`, as binNMUs are.
 */
async function rebuildEntry(
  ctx: BuildrootBuildContext,
  note: RebuildNote,
  source: string,
  dscText?: string,
): Promise<string> {
  let version: string;
  let distribution = 'unstable';
  if (dscText !== undefined) {
    version = controlParagraphs(dscText)[0]?.get('version')?.trim() ?? '';
    if (version === '') {
      throw new BuildfleetError('metadata-invalid', `${ctx.pkg.project}: the .dsc has no Version to rebuild`, {
        context: { field: 'Version' },
      });
    }
  } else {
    const file = 'debian/changelog';
    const head = changelogHead(await readPackageFile(ctx.pkg, file, ctx.srcDir), `${ctx.pkg.project}/${file}`);
    version = head.version;
    distribution = head.distribution;
  }
  const { entry } = debRebuildEntry(source, version, distribution, note, new Date());
  ctx.onLine(`buildfleet: rebuild ${note.number}: ${source} ${version}+b${note.number} (${note.text})`, 'stdout');
  return entry;
}
