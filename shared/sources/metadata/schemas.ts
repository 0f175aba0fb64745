/**
 * Schemas of the metadata files in a sources repo (docs/sources.md describes them for
 * users). buildfleet's own files reject unknown keys, so a typo is an error instead of a
 * silently ignored setting; the predecessor's .cb/cloud_builder.yml keeps its other keys
 * (schema_version, images, ...) and they are ignored.
 */
import { Type, type Static } from '@sinclair/typebox';
import { literalUnion } from '../../messages/common.ts';
import { BuildKinds } from '../../messages/build-request.ts';
import { PATTERN_PHRASE } from './check-schema.ts';

const strict = { additionalProperties: false } as const;

const Text = () => Type.String({ minLength: 1 });

/** Arches and runner groups are one segment of a Kafka topic name each. */
const Segment = (example: string) =>
  Type.String({
    pattern: '^[A-Za-z0-9_-]+$',
    [PATTERN_PHRASE]: `a name of letters, digits, "_" and "-" (e.g. ${example})`,
  });

/** A dist name is a file name under dists/ and part of build and repo keys. */
export const DIST_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
const DistName = () =>
  Type.String({ pattern: DIST_NAME_PATTERN, [PATTERN_PHRASE]: 'a dist name of letters, digits, ".", "_" and "-"' });

const PackageName = () =>
  Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9.+_~-]*$',
    [PATTERN_PHRASE]: 'a package name of letters, digits, ".", "+", "_", "~" and "-"',
  });

/** A docker repository path below the registry (`hello`, `team/hello`): lower case, as registries require. */
export const DOCKER_IMAGE_NAME_PATTERN =
  '^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$';
const DockerImageName = () =>
  Type.String({
    pattern: DOCKER_IMAGE_NAME_PATTERN,
    maxLength: 200,
    [PATTERN_PHRASE]: 'an image name of lower-case letters, digits and ".", "_", "-" separators, "/" between parts',
  });

const Url = () =>
  Type.String({ pattern: '^(https?|file)://\\S+$', [PATTERN_PHRASE]: 'an http://, https:// or file:// URL' });

const PackageTargetSchema = Type.Object(
  { dist: DistName(), arch: Segment('x86_64'), runnerGroup: Type.Optional(Segment('default')) },
  strict,
);

/** Defaults and bounds of the `noop` section (kind noop: benchmarks and tests). */
export const NOOP_LIMITS = {
  /** How long a noop build waits. */
  defaultMs: 100,
  /** One day: longer is a mistake, not a benchmark. */
  maxMs: 86_400_000,
  /** Size of the file a noop build writes. */
  defaultBytes: 64,
  maxBytes: 1024 * 1024,
} as const;

/** buildfleet.yml in a package directory. */
export const PackageFileSchema = Type.Object(
  {
    name: Type.Optional(PackageName()),
    version: Type.Optional(Text()),
    kind: Type.Optional(literalUnion(BuildKinds)),
    targets: Type.Array(PackageTargetSchema, { minItems: 1 }),
    docker: Type.Optional(
      Type.Object(
        {
          buildArgs: Type.Optional(Type.Record(Type.String(), Type.String())),
          target: Type.Optional(Text()),
          name: Type.Optional(DockerImageName()),
        },
        strict,
      ),
    ),
    kiwi: Type.Optional(
      Type.Object({ profiles: Type.Optional(Type.Array(Text())), args: Type.Optional(Type.Array(Text())) }, strict),
    ),
    noop: Type.Optional(
      Type.Object(
        {
          ms: Type.Optional(Type.Integer({ minimum: 0, maximum: NOOP_LIMITS.maxMs })),
          bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: NOOP_LIMITS.maxBytes })),
          /** Log lines written before waiting ("noop: line 1" ...), for tests of log handling. */
          logLines: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
          /** After waiting, fail the build (`build-failed`) with this message instead of writing the file. */
          fail: Type.Optional(Text()),
          /** Names this package provides in the dependency graph (benchmarks, tests). @default [its name] */
          provides: Type.Optional(Type.Array(Text())),
          /** Names it needs: an edge to each of our packages that provides one. @default [] */
          needs: Type.Optional(Type.Array(Text())),
        },
        strict,
      ),
    ),
    /** What happens to this package when a package it builds against is published anew (issue 12). */
    rebuild: Type.Optional(
      Type.Object(
        {
          /** Rebuild it against the new version (a cascade of its dist). @default true */
          onDependencyChange: Type.Optional(Type.Boolean()),
        },
        strict,
      ),
    ),
    build: Type.Optional(
      Type.Object(
        {
          timeoutMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 })),
          memoryMb: Type.Optional(Type.Integer({ minimum: 64 })),
          // Builds never have network (DESIGN.md §6); the key only lets a file say so explicitly.
          network: Type.Optional(Type.Literal(false)),
        },
        strict,
      ),
    ),
  },
  strict,
);
export type PackageFile = Static<typeof PackageFileSchema>;

/** The predecessor's .cb/cloud_builder.yml: only what buildfleet reads; other keys are ignored. */
export const CloudBuilderFileSchema = Type.Object({
  name: Type.Optional(PackageName()),
  distributions: Type.Array(
    Type.Object({ dist: DistName(), arch: Segment('x86_64'), runner_group: Type.Optional(Segment('default')) }),
    { minItems: 1 },
  ),
});
export type CloudBuilderFile = Static<typeof CloudBuilderFileSchema>;

/**
 * Which dependants a package's new build makes rebuild (issue 12, as OBS's `rebuild` modes):
 * everything that builds against it directly or through others, only direct dependants, or none.
 */
export const RebuildModes = ['transitive', 'direct', 'none'] as const;
export type RebuildMode = (typeof RebuildModes)[number];

const DistFormats = ['deb', 'rpm'] as const;
export type DistFormat = (typeof DistFormats)[number];

export const BootstrapTools = ['mmdebstrap', 'debootstrap'] as const;
export type BootstrapTool = (typeof BootstrapTools)[number];

/** dists/<name>.yml at the root of the sources repo. */
export const DistFileSchema = Type.Object(
  {
    format: literalUnion(DistFormats),
    base: Type.Object(
      {
        image: Type.Optional(Text()),
        bootstrap: Type.Optional(
          Type.Object(
            {
              tool: literalUnion(BootstrapTools),
              suite: Text(),
              mirror: Url(),
              variant: Type.Optional(Text()),
              components: Type.Optional(Type.Array(Text(), { minItems: 1 })),
            },
            strict,
          ),
        ),
      },
      strict,
    ),
    repositories: Type.Optional(
      Type.Array(
        Type.Object(
          {
            url: Url(),
            suite: Type.Optional(Text()),
            components: Type.Optional(Type.Array(Text(), { minItems: 1 })),
            name: Type.Optional(Segment('updates')),
            /** The repository's OpenPGP public key (armored or binary): an http(s)/file URL or a path in the sources repo. */
            key: Type.Optional(Text()),
          },
          strict,
        ),
      ),
    ),
    /** Our own published repositories of this dist that buildroots install from: all (true), none, or these repo keys. */
    ownRepositories: Type.Optional(Type.Union([Type.Boolean(), Type.Array(Text(), { minItems: 1 })])),
    runnerGroup: Type.Optional(Segment('default')),
    /** Which dependants a new build of a package of this dist rebuilds. @default transitive */
    rebuildDependants: Type.Optional(literalUnion(RebuildModes)),
    packages: Type.Optional(Type.Array(Text())),
    arches: Type.Optional(Type.Array(Segment('x86_64'), { minItems: 1 })),
  },
  strict,
);
export type DistFile = Static<typeof DistFileSchema>;
