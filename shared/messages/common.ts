/**
 * Parts shared by several messages (DESIGN.md §3). None of these objects sets
 * `additionalProperties: false`: readers ignore fields they do not know, so a newer producer
 * may add fields without breaking older readers.
 */
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { ArchName, DistName, KeyString, ProjectPath, ShortId, inputPatternPhrases } from './input-limits.ts';

export * from './input-limits.ts';

/** A union of string literals, the TypeBox form of an `as const` list. */
export function literalUnion<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  );
}

/** A string with at least one character: ids, names, keys. */
export function NonEmptyString(description?: string) {
  return Type.String(description === undefined ? { minLength: 1 } : { minLength: 1, description });
}

/**
 * RFC 3339 date-time (the ISO 8601 profile `new Date().toISOString()` writes), with a zone.
 * A pattern rather than `format: 'date-time'`: TypeBox needs a format registered globally
 * before it can check one, and a pattern keeps every schema self-contained.
 */
export const ISO_DATE_TIME_PATTERN =
  '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d+)?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$';
/** A full git commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories), lower case. */
export const COMMIT_ID_PATTERN = '^([0-9a-f]{40}|[0-9a-f]{64})$';
/** A SHA-256 digest as 64 lower-case hex digits (no `sha256:` prefix). */
export const SHA256_PATTERN = '^[0-9a-f]{64}$';
/** A Kafka offset: kafkajs hands offsets around as decimal strings. */
export const OFFSET_PATTERN = '^[0-9]+$';

/** What a value failing one of the patterns above should have been; used in error messages. */
export const patternPhrases: Readonly<Record<string, string>> = {
  [ISO_DATE_TIME_PATTERN]: 'an ISO 8601 date-time with a time zone, e.g. 2025-01-02T03:04:05.678Z',
  [COMMIT_ID_PATTERN]: 'a full commit id (40 or 64 lower-case hex digits)',
  [SHA256_PATTERN]: 'a SHA-256 digest (64 lower-case hex digits)',
  [OFFSET_PATTERN]: 'a decimal offset string, e.g. "42"',
  ...inputPatternPhrases,
};

export function IsoDateTime(description = 'ISO 8601 date-time with a time zone') {
  return Type.String({ pattern: ISO_DATE_TIME_PATTERN, description });
}

export const CommitId = (description = 'full commit id') => Type.String({ pattern: COMMIT_ID_PATTERN, description });

/** An attempt counter: 1 for the first dispatch of a build, +1 for every retry. */
export const Attempt = () => Type.Integer({ minimum: 1, description: 'attempt number: 1, 2, ...' });

/** The first fields of every message: its schema version and its type name. */
export function messageHead<const V extends number, const T extends string>(version: V, type: T) {
  return { v: Type.Literal(version), type: Type.Literal(type) };
}

/** Which attempt of which build a message speaks of (build events, log chunks). */
export const BuildAttemptFields = { buildId: ShortId('build id'), attempt: Attempt() };

/** What a build builds: its build key and package directory (build requests, events and records). */
export const BuildKeyFields = {
  buildKey: KeyString('<project>@<dist>.<arch>'),
  project: ProjectPath('package directory in the sources repo'),
};

/** A duration or size that cannot be negative. */
const NonNegativeInteger = (description: string) => Type.Integer({ minimum: 0, description });

/** Where a package is built: a dist (defined in dists/<name>.yml) and a CPU architecture. */
export const TargetSchema = Type.Object({
  dist: DistName('dist name, e.g. bookworm'),
  arch: ArchName('architecture, e.g. x86_64'),
});
export type Target = Static<typeof TargetSchema>;

/**
 * What an artifact is, so the collector knows where it goes. The list is closed (adding a
 * kind is a new message version); `other` covers files kept but not put into a repository.
 */
export const ArtifactKinds = [
  'deb', // binary Debian package: .deb, .udeb, .ddeb
  'deb-source', // a file of a Debian source package: .dsc, .orig.tar.*, .debian.tar.*, .diff.gz
  'rpm', // binary rpm
  'srpm', // source rpm
  'image', // a KIWI image file (tbz, qcow2, iso, oci archive, ...)
  'docker-image', // an image pushed to a registry: name is the reference, sha256 the manifest digest
  'buildinfo', // build metadata (.buildinfo, .changes): kept, not published
  'other',
] as const;
export type ArtifactKind = (typeof ArtifactKinds)[number];

export const ArtifactSchema = Type.Object({
  name: NonEmptyString('file name (or image reference for docker-image)'),
  kind: literalUnion(ArtifactKinds, { description: 'what the artifact is' }),
  size: NonNegativeInteger('size in bytes'),
  sha256: Type.String({
    pattern: SHA256_PATTERN,
    description: 'SHA-256 of the content (docker-image: manifest digest)',
  }),
  key: NonEmptyString('key of the object in the artifact store'),
});
export type Artifact = Static<typeof ArtifactSchema>;

/** Why something failed: `code` is one of shared/errors/codes.ts (a string here so new codes need no new version). */
export const ErrorInfoSchema = Type.Object({
  code: NonEmptyString('error code from the closed list in shared/errors/codes.ts'),
  message: Type.String({ description: 'human-readable explanation' }),
  retriable: Type.Optional(
    Type.Boolean({
      description:
        'true: the failure may pass on another attempt (the scheduler dispatches a failed build again); absent: false',
    }),
  ),
});
export type ErrorInfo = Static<typeof ErrorInfoSchema>;

/** How long each phase of a build took, in whole milliseconds. */
export const DurationsSchema = Type.Object({
  checkout: Type.Optional(NonNegativeInteger('checkout of the commit, ms')),
  buildroot: Type.Optional(NonNegativeInteger('buildroot preparation, ms')),
  build: Type.Optional(NonNegativeInteger('the build itself, ms')),
  upload: Type.Optional(NonNegativeInteger('upload of artifacts and log, ms')),
});
export type Durations = Static<typeof DurationsSchema>;

/** A published repository version (set on `published` events). */
export const PublishedRepoSchema = Type.Object({
  url: NonEmptyString('URL the repository is served from'),
  version: NonEmptyString('repository version id; a new one per publish'),
});
export type PublishedRepo = Static<typeof PublishedRepoSchema>;

/** Which process wrote a message: the service name and its instance id. */
export const MessageSourceSchema = Type.Object({
  service: NonEmptyString('service name, e.g. runner, scheduler, collector'),
  instance: NonEmptyString('instance id of that service, e.g. the runner id'),
});
export type MessageSource = Static<typeof MessageSourceSchema>;

/** One of our own packages a build installed into its buildroot (set on `succeeded`). */
export const BuiltAgainstSchema = Type.Object({
  package: NonEmptyString('binary package name, e.g. libbfgreet-dev'),
  version: NonEmptyString('exact version installed, e.g. 1.1-1'),
  buildId: Type.Optional(NonEmptyString('the build that made that package, when the repository says')),
});
export type BuiltAgainst = Static<typeof BuiltAgainstSchema>;

/**
 * Why a build is a rebuild of the same sources (issue 12): our packages it depends on were
 * published anew. `number` is the rebuild number of its build key (deb `+b<number>`, rpm release
 * suffix `.b<number>`), monotonic per build key.
 */
export const RebuildSchema = Type.Object({
  number: Type.Integer({ minimum: 1, description: 'rebuild number: deb version +b<number>, rpm release .b<number>' }),
  because: Type.Array(
    Type.Object({
      project: ProjectPath('the dependency published anew'),
      buildId: ShortId('its build'),
    }),
    {
      description:
        'the dependencies whose new builds made this rebuild; empty for a rebuild asked for (buildfleet rebuild, build --all)',
    },
  ),
});
export type Rebuild = Static<typeof RebuildSchema>;
