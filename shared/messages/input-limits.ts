/**
 * The limits on what comes in (issue 14, the front door): the lengths and characters of the
 * names and ids a client or a producer chooses. They are schemas, so one check holds them on
 * every door: the HTTP API (info-service/http/requests.ts decodes a submission with them), the
 * bus (decodeMessage: a message over a limit is dead-lettered with the reason before anything
 * hashes or re-produces it) and the published JSON Schemas (docs/schemas). docs/security.md
 * ("The front door") lists them with the answer each bad input gets.
 *
 * Every pattern is linear (character classes that cannot overlap, no nested repetition), and
 * `maxLength` is checked before `pattern`, so a megabyte-long value costs a length comparison.
 */
import { Type } from '@sinclair/typebox';

export const InputLimits = Object.freeze({
  /** A project path (package directory), also a Kafka key: characters (ASCII, so bytes too). */
  projectChars: 255,
  /** A git ref (branch, tag, commit). */
  refChars: 255,
  /** A submitId sent by a client (HTTP API, CLI). */
  clientSubmitIdChars: 128,
  /** A submitId on the bus: room for the scheduler's own `change:<project>@<commit>`. */
  submitIdChars: 7 + 255 + 1 + 64,
  /** A dist or arch name. */
  nameChars: 64,
  /** A build key `<project>@<dist>.<arch>` or repo key `<dir>/<dist>`. */
  keyChars: 255 + 1 + 64 + 1 + 64,
  /** Build ids (UUIDs when the scheduler makes them), runner ids, query and client ids. */
  idChars: 128,
  /** `requestedBy`. */
  textChars: 1024,
  /** A cancel's reason. */
  reasonChars: 4096,
  /** Targets one submission may name. */
  targets: 256,
});

/**
 * A package directory: a relative path of segments of letters, digits, `.`, `_`, `+` and `-`,
 * each starting with a letter, digit or `_` (so no `.`/`..` segment, no hidden directory, no
 * leading `-` that a tool could read as an option), joined by single `/`; no `@` (it ends the
 * project in a build key), no `\`, no leading or trailing `/`.
 */
export const PROJECT_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._+-]*(/[A-Za-z0-9_][A-Za-z0-9._+-]*)*$';
/** A git ref: letters, digits, `.`, `_`, `/`, `+`, `-`; not starting with `-` or `.`, no `..`. */
export const REF_PATTERN = '^(?!.*\\.\\.)[A-Za-z0-9_][A-Za-z0-9._/+-]*$';
/** A submitId: letters, digits and `. _ : @ / + = -`, not starting with a sign (UUIDs, `change:<project>@<commit>`). */
export const SUBMIT_ID_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._:@/+=-]*$';
/** A dist name: the name of its file under dists/ (as shared/sources/metadata says). */
export const DIST_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
/** An arch: one segment of a topic name, never a dot (a build key splits at its last dot). */
export const ARCH_PATTERN = '^[A-Za-z0-9_-]+$';
/** Text without control characters (a log line or a record cannot be split or forged with it). */
export const PLAIN_TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

/** What a value failing one of the patterns above should have been (merged into common.ts's patternPhrases). */
export const inputPatternPhrases: Readonly<Record<string, string>> = {
  [PROJECT_PATTERN]:
    'a relative path like projects/demo/hello: segments of letters, digits, ".", "_", "+" and "-", each starting ' +
    'with a letter, digit or "_", joined by single "/" (no "." or ".." segments, no "@", "\\" or leading "/")',
  [REF_PATTERN]:
    'a git ref of letters, digits, ".", "_", "/", "+" and "-", not starting with "-" or "." and without ".."',
  [SUBMIT_ID_PATTERN]: 'an id of letters, digits and ". _ : @ / + = -", starting with a letter, digit or "_"',
  [DIST_PATTERN]: 'a dist name of letters, digits, ".", "_" and "-"',
  [ARCH_PATTERN]: 'an arch name of letters, digits, "_" and "-"',
  [PLAIN_TEXT_PATTERN]: 'text without control characters',
};

export const ProjectPath = (description = 'package directory in the sources repo, e.g. projects/demo/hello-deb') =>
  Type.String({ minLength: 1, maxLength: InputLimits.projectChars, pattern: PROJECT_PATTERN, description });

export const GitRef = (description = 'branch, tag or commit of the sources repo') =>
  Type.String({ minLength: 1, maxLength: InputLimits.refChars, pattern: REF_PATTERN, description });

export const SubmitId = (description = 'the submission') =>
  Type.String({ minLength: 1, maxLength: InputLimits.submitIdChars, pattern: SUBMIT_ID_PATTERN, description });

export const DistName = (description = 'dist name, e.g. bookworm') =>
  Type.String({ minLength: 1, maxLength: InputLimits.nameChars, pattern: DIST_PATTERN, description });

export const ArchName = (description = 'architecture, e.g. x86_64') =>
  Type.String({ minLength: 1, maxLength: InputLimits.nameChars, pattern: ARCH_PATTERN, description });

/** A build key or repo key: checked in full by shared/messages/keys.ts where it is made or split. */
export const KeyString = (description: string) =>
  Type.String({ minLength: 1, maxLength: InputLimits.keyChars, description });

/** An id (build, runner, query, client): non-empty and short. */
export const ShortId = (description: string) =>
  Type.String({ minLength: 1, maxLength: InputLimits.idChars, description });

/** Free text from a person or tool, one line. */
export const PlainText = (description: string) =>
  Type.String({ maxLength: InputLimits.textChars, pattern: PLAIN_TEXT_PATTERN, description });
