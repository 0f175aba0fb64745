/**
 * The rpm builder: `rpmbuild -ba --nodeps` (binary and source rpms) from the package's spec and
 * the sources next to it, in a Debian buildroot whose BuildRequires were installed as Debian
 * packages (rpm-requires.ts). docs/builders.md.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { rpmBuildRequires, type PackageSpec } from '../../shared/sources/index.ts';
import { collectArtifacts } from './artifacts.ts';
import { readPackageFile, runBuildScript } from './build-step.ts';
import { RPM_BUILD_SCRIPT } from './rpm-script.ts';
import { debianRelationsForBuildRequires } from './rpm-requires.ts';
import { rpmRebuildSpec } from './rebuild-version.ts';
import type { Builder, BuildrootBuildContext } from './types.ts';

function specOf(pkg: PackageSpec): string {
  if (pkg.files.spec !== undefined) return pkg.files.spec;
  throw new BuildfleetError('metadata-invalid', `${pkg.metadataFile}: ${pkg.project} has no .spec file`, {
    context: { file: pkg.metadataFile },
  });
}

export function createRpmBuilder(): Builder<BuildrootBuildContext> {
  return {
    kind: 'rpm',

    async buildDeps(pkg, _target, options) {
      const spec = specOf(pkg);
      const file = `${pkg.project}/${spec}`;
      // What our own rpms provide is installed from our rpm repository, not as a Debian package.
      const own = new Set(options?.ownSatisfied ?? []);
      const { relations, unmapped } = debianRelationsForBuildRequires(
        rpmBuildRequires(await readPackageFile(pkg, spec)).filter((requirement) => !own.has(requirement)),
      );
      if (unmapped.length > 0) {
        throw new BuildfleetError(
          'metadata-invalid',
          `${file}: BuildRequires without a Debian package name: ${unmapped.join(', ')} ` +
            `(rpm builds install BuildRequires as Debian packages; docs/builders.md lists the names that are mapped)`,
          { context: { file, field: 'BuildRequires', unmapped } },
        );
      }
      return relations;
    },

    async build(ctx) {
      if (ctx.rebuild) {
        // srcDir is the build's own copy of the package: the spec may be changed in place.
        const spec = specOf(ctx.pkg);
        const file = `${ctx.pkg.project}/${spec}`;
        const text = await readPackageFile(ctx.pkg, spec, ctx.srcDir);
        await writeFile(join(ctx.srcDir, spec), rpmRebuildSpec(text, ctx.rebuild, new Date(), file));
        ctx.onLine(
          `buildfleet: rebuild ${ctx.rebuild.number}: release .b${ctx.rebuild.number} (${ctx.rebuild.text})`,
          'stdout',
        );
      }
      await runBuildScript(ctx, {
        tool: 'rpmbuild',
        script: RPM_BUILD_SCRIPT,
        env: { BUILDFLEET_RPM_SPEC: specOf(ctx.pkg) },
      });
    },

    collect: collectArtifacts,
  };
}
