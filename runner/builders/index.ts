/**
 * Builders (DESIGN.md §6): one per package kind. The runner asks a builder for the build
 * dependencies, prepares a buildroot with them, runs build() in it and uploads what collect()
 * finds. docs/builders.md is the user documentation.
 */
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { BuildKind } from '../../shared/messages/index.ts';
import { createDebBuilder } from './deb.ts';
import { createDockerBuilder, type DockerBuilderOptions } from './docker.ts';
import { createKiwiBuilder, type KiwiBuilderOptions } from './kiwi.ts';
import { createNoopBuilder } from './noop.ts';
import { createRpmBuilder } from './rpm.ts';
import {
  BUILDER_KINDS,
  type Builder,
  type BuilderKind,
  type BuildrootBuildContext,
  type NoopBuildContext,
} from './types.ts';

export { type Builder, type CollectedArtifact } from './types.ts';
export { artifactKindOf, collectArtifacts } from './artifacts.ts';

export { noopArtifactBytes, noopArtifactName } from './noop.ts';

export { type DockerBuilderOptions } from './docker.ts';
export {
  BASE_IMAGE_ARG,
  DOCKER_RECORD_FILE,
  dockerArtifactsOf,
  planDockerBuild,
  type DockerPushRecord,
} from './docker-plan.ts';
export { dockerRegistryFrom, LOCAL_IMAGES, registryHost } from './docker-registry.ts';
export { collectKiwiArtifacts, HOST_BUILDS_REFUSED, type KiwiBuilderOptions } from './kiwi.ts';
export {
  displayedLine,
  kiwiArtifactKindOf,
  kiwiBuildArgs,
  kiwiBundleArgs,
  kiwiBundleId,
  kiwiErrorOf,
  mountPointsUnder,
  unameArchOf,
} from './kiwi-plan.ts';

export { debianRelationsForBuildRequires } from './rpm-requires.ts';

/** Whether this runner has a builder for a package kind. */
export function isBuilderKind(kind: BuildKind): kind is BuilderKind {
  return (BUILDER_KINDS as readonly string[]).includes(kind);
}

/** What builders of some kinds need from the runner. */
export interface BuilderSettings {
  /**
   * The container engine and registry docker builds use (the registry is LOCAL_IMAGES when
   * runner.docker is not set). Absent on a runner without a container engine: its docker builds
   * fail with 'kind-unsupported'.
   */
  docker?: DockerBuilderOptions;
  /** Where kiwi builds make their temp roots, and the kiwi-ng program; @default KiwiBuilderOptions' defaults */
  kiwi?: KiwiBuilderOptions;
}

/**
 * The builder of a package kind.
 * @throws BuildfleetError 'kind-unsupported' for docker on a runner without a container engine (no `docker` settings)
 */
export function builderFor(kind: 'deb' | 'rpm', settings?: BuilderSettings): Builder<BuildrootBuildContext>;
export function builderFor(kind: 'noop', settings?: BuilderSettings): Builder<NoopBuildContext>;
export function builderFor(kind: BuildKind, settings?: BuilderSettings): Builder;
export function builderFor(kind: BuildKind, settings: BuilderSettings = {}): Builder {
  switch (kind) {
    case 'deb':
      return createDebBuilder();
    case 'rpm':
      return createRpmBuilder();
    case 'noop':
      return createNoopBuilder();
    case 'docker':
      if (settings.docker === undefined) {
        throw new BuildfleetError(
          'kind-unsupported',
          'this runner has no container engine (Docker or Podman) to build docker images in',
          { retriable: false, context: { kind } },
        );
      }
      return createDockerBuilder(settings.docker);
    case 'kiwi':
      return createKiwiBuilder(settings.kiwi);
    default: {
      const unknownKind: never = kind;
      throw new BuildfleetError('internal', `unknown package kind ${String(unknownKind)}`);
    }
  }
}
