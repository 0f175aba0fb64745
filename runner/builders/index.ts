/**
 * Builders (DESIGN.md §6): one per package kind. The runner asks a builder for the build
 * dependencies, prepares a buildroot with them, runs build() in it and uploads what collect()
 * finds. docs/builders.md is the user documentation.
 */
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { BuildKind } from '../../shared/messages/index.ts';
import { createDebBuilder } from './deb.ts';
import { createNoopBuilder } from './noop.ts';
import { createRpmBuilder } from './rpm.ts';
import { BUILDER_KINDS, type Builder, type BuilderKind } from './types.ts';

export {
  BUILDER_KINDS,
  type Builder,
  type BuilderKind,
  type BuildContext,
  type BuildTarget,
  type CollectedArtifact,
} from './types.ts';
export { artifactKindOf, collectArtifacts } from './artifacts.ts';
export { createDebBuilder } from './deb.ts';
export { createNoopBuilder, noopArtifactBytes, noopArtifactName, NOOP_SUFFIX } from './noop.ts';
export { createRpmBuilder } from './rpm.ts';
export { DEB_RESULT_PATTERNS } from './deb-script.ts';
export { FAILURE_TAIL_LINES } from './build-step.ts';
export {
  debianRelationsForBuildRequires,
  PKGCONFIG_TO_DEBIAN,
  RPM_TO_DEBIAN,
  type MappedBuildRequires,
} from './rpm-requires.ts';

/** Whether this runner has a builder for a package kind (kiwi and docker have none yet). */
export function isBuilderKind(kind: BuildKind): kind is BuilderKind {
  return (BUILDER_KINDS as readonly string[]).includes(kind);
}

/**
 * The builder of a package kind.
 * @throws BuildfleetError('build-failed', not retriable) for kinds this runner has no builder for (kiwi, docker)
 */
export function builderFor(kind: BuildKind): Builder {
  switch (kind) {
    case 'deb':
      return createDebBuilder();
    case 'rpm':
      return createRpmBuilder();
    case 'noop':
      return createNoopBuilder();
    case 'kiwi':
    case 'docker':
      throw new BuildfleetError('build-failed', `this runner has no builder for ${kind} packages`, {
        retriable: false,
        context: { kind },
      });
    default: {
      const unknownKind: never = kind;
      throw new BuildfleetError('internal', `unknown package kind ${String(unknownKind)}`);
    }
  }
}
