/**
 * Pure decisions of the docker builder: which references a build pushes, with which build args
 * and labels, and what the record of a push (the file the build leaves) holds and reports.
 * docs/builders.md (docker) describes them for users.
 */
import { BuildfleetError } from '../../shared/errors/index.ts';
import { DOCKER_IMAGE_NAME_PATTERN, type PackageSpec } from '../../shared/sources/index.ts';
import type { BuildTarget, CollectedArtifact } from './types.ts';

/** The build arg that names the dist's base image; a Dockerfile uses it as `FROM ${BUILDFLEET_BASE_IMAGE}`. */
export const BASE_IMAGE_ARG = 'BUILDFLEET_BASE_IMAGE';
/** The file a docker build leaves in its output directory: the record of the push. */
export const DOCKER_RECORD_FILE = 'docker-image.json';
/** Label on every image a docker build makes, so an engine's leftovers can be found and pruned. */
const DOCKER_IMAGE_LABEL = 'org.buildfleet.docker';

/** A docker tag: up to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_NAME = new RegExp(DOCKER_IMAGE_NAME_PATTERN);

export interface DockerBuildPlan {
  /** The image name below the registry: `docker.name`, else the package name. */
  name: string;
  /** `<registry>/<name>:<tag>`, the commit's tag first (the build is tagged with it, unique per commit). */
  references: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
}

export interface DockerPlanInput {
  pkg: Pick<PackageSpec, 'name' | 'version' | 'docker' | 'metadataFile' | 'targets'>;
  target: BuildTarget;
  commit: string;
  /** `host[:port][/path]` of the runner group's registry. */
  registry: string;
  /** What `FROM ${BUILDFLEET_BASE_IMAGE}` resolves to. */
  baseImage: string;
}

function metadataError(pkg: DockerPlanInput['pkg'], field: string, reason: string): BuildfleetError {
  return new BuildfleetError('metadata-invalid', `${pkg.metadataFile}: field "${field}" ${reason}`, {
    context: { file: pkg.metadataFile, field },
  });
}

/**
 * Tags `<commit>` and, when the package has a version, `<version>`. A package with several
 * targets pushes one image per target, so each tag gets `-<dist>-<arch>` and no target
 * overwrites another's.
 * @throws BuildfleetError('metadata-invalid') naming the field when the name or version cannot be a docker name or tag
 */
export function planDockerBuild(input: DockerPlanInput): DockerBuildPlan {
  const { pkg, target, commit } = input;
  const name = pkg.docker.name ?? pkg.name;
  if (!IMAGE_NAME.test(name)) {
    throw pkg.docker.name === undefined
      ? metadataError(pkg, 'name', `is "${name}", which cannot be a docker image name (lower case); set "docker.name"`)
      : metadataError(pkg, 'docker.name', `is "${name}", not a docker image name`);
  }
  const suffix = pkg.targets.length > 1 ? `-${target.dist}-${target.arch}` : '';
  const tags = [`${commit}${suffix}`];
  if (pkg.version !== undefined) {
    const versionTag = `${pkg.version}${suffix}`;
    if (!TAG.test(versionTag)) {
      throw metadataError(
        pkg,
        'version',
        `is "${pkg.version}", which cannot be a docker tag (letters, digits, "_", "." and "-", at most 128)`,
      );
    }
    tags.push(versionTag);
  }
  const repository = `${input.registry.replace(/\/+$/, '')}/${name}`;
  return {
    name,
    references: tags.map((tag) => `${repository}:${tag}`),
    // The base image arg is set last: a package cannot point it elsewhere by accident.
    buildArgs: { ...pkg.docker.buildArgs, [BASE_IMAGE_ARG]: input.baseImage },
    labels: {
      [DOCKER_IMAGE_LABEL]: name,
      'org.opencontainers.image.revision': commit,
      ...(pkg.version === undefined ? {} : { 'org.opencontainers.image.version': pkg.version }),
    },
    ...(pkg.docker.target === undefined ? {} : { target: pkg.docker.target }),
  };
}

/** What a docker build leaves in its output directory (DOCKER_RECORD_FILE). */
export interface DockerPushRecord {
  /**
   * Every pushed reference with the manifest digest the registry stored for it (`sha256:<hex>`);
   * with `local`, the references tagged in the engine with the image id.
   */
  pushed: { reference: string; digest: string }[];
  /** Not pushed: the images live only in the engine of the runner that built them. */
  local?: boolean;
  /** The engine's image id (`sha256:<hex>`) and uncompressed size in bytes. */
  imageId: string;
  size: number;
  baseImage: string;
  target: BuildTarget;
  commit: string;
}

/** The digest as 64 hex digits, or undefined when it is not a `sha256:` digest. */
function digestHex(digest: string): string | undefined {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  return match?.[1];
}

/**
 * Pure: one `docker-image` artifact per pushed reference: name = the reference, sha256 = its
 * manifest digest, size = the image's size; each points at the record file (`path`).
 * @throws BuildfleetError('internal') for a record whose digests are not sha256 digests
 */
export function dockerArtifactsOf(record: DockerPushRecord, path: string): CollectedArtifact[] {
  return record.pushed.map(({ reference, digest }) => {
    const sha256 = digestHex(digest);
    if (sha256 === undefined) {
      throw new BuildfleetError(
        'internal',
        `${DOCKER_RECORD_FILE}: "${digest}" of ${reference} is not a sha256 digest`,
      );
    }
    return {
      name: DOCKER_RECORD_FILE,
      kind: 'docker-image' as const,
      path,
      reported: { name: reference, size: record.size, sha256 },
    };
  });
}
