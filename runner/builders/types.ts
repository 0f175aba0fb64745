/**
 * The Builder port: what turns a package directory into artifacts inside a prepared buildroot.
 * One builder per package kind; each says which Debian packages its buildroot needs, runs the
 * build tool, and names the files it left in the output directory.
 */
import type { OutputStream } from '../../shared/exec/index.ts';
import type { ArtifactKind } from '../../shared/messages/index.ts';
import type { DistSpec, PackageSpec } from '../../shared/sources/index.ts';
import type { PreparedBuildroot, RunLimits } from '../buildroot/index.ts';
import type { RebuildNote } from './rebuild-version.ts';

export const BUILDER_KINDS = ['deb', 'rpm', 'noop', 'docker', 'kiwi'] as const;
export type BuilderKind = (typeof BUILDER_KINDS)[number];

/** The target of one build, as in build.request: buildfleet arch names (`x86_64`, `aarch64`). */
export interface BuildTarget {
  dist: string;
  arch: string;
}

/** Which build this is: the noop builder derives its file from it, docker its tags, kiwi its bundle id. */
export interface BuildIdentity {
  buildId: string;
  commit: string;
}

/** What every builder is given. */
export interface BuildBasics {
  pkg: PackageSpec;
  /** Host directory with the package directory's files; writable, the builder may change it. */
  srcDir: string;
  /** Host directory, empty: the artifacts end up here, nothing else does. */
  outDir: string;
  signal: AbortSignal;
  /** Every line the build writes, as it is written. Must not throw. */
  onLine: (line: string, stream: OutputStream) => void;
  /** @default the buildroot's defaults (DEFAULT_RUN_LIMITS) */
  limits?: RunLimits;
}

/** deb and rpm: the build runs in a buildroot. */
export interface BuildrootBuildContext extends BuildBasics {
  /** Prepared with the relations buildDeps() returned. */
  buildroot: PreparedBuildroot;
  /**
   * Set for a rebuild against new versions of our own packages (build.request `rebuild`): the
   * deb and rpm builders raise the version (`+b<N>`, `.b<N>`) and add a changelog entry.
   */
  rebuild?: RebuildNote;
}

/** noop: its file is derived from the build. */
export interface NoopBuildContext extends BuildBasics {
  build: BuildIdentity;
}

/** kiwi: the image is built for the target's arch, its bundle named after the commit. */
export interface KiwiBuildContext extends NoopBuildContext {
  target: BuildTarget;
}

/** docker: tags from the build and target, the base image from the dist definition. */
export interface DockerBuildContext extends KiwiBuildContext {
  dist: DistSpec;
}

/** What the runner gives a builder of any kind: every kind's context at once. */
export type BuildContext = BuildrootBuildContext & DockerBuildContext;

/** A file of outDir and what it is; `name` is its path relative to outDir. */
export interface CollectedArtifact {
  name: string;
  kind: ArtifactKind;
  /** Absolute host path. */
  path: string;
  /**
   * What the build event reports instead of the file's own name, size and sha256: a pushed docker
   * image (name = its reference, sha256 = its manifest digest). The file (a record of the push) is
   * still uploaded, and the artifact's `key` points at it.
   */
  reported?: { name: string; size: number; sha256: string };
}

export interface BuildDepsOptions {
  /**
   * Requirements (as the package writes them) that our own published packages satisfy: the
   * runner installs those from our repositories, so the builder does not map them to Debian
   * packages (rpm: BuildRequires one of our rpms provides). @default []
   */
  ownSatisfied?: readonly string[];
}

/** A builder of one kind; `Context` is what its build() reads (the runner gives every builder a BuildContext). */
export interface Builder<Context extends BuildBasics = BuildContext> {
  readonly kind: BuilderKind;
  /**
   * False for a builder that runs nothing in a buildroot (noop): the build job then prepares
   * none, so it works with any dist and needs no container engine.
   * @default true
   */
  readonly needsBuildroot?: boolean;
  /**
   * Debian package relations the buildroot must install for this package: Build-Depends of
   * debian/control (or the .dsc), or the spec's BuildRequires mapped to Debian names.
   * @throws BuildfleetError 'metadata-invalid' naming the file when it cannot be read or understood
   */
  buildDeps(pkg: PackageSpec, target: BuildTarget, options?: BuildDepsOptions): Promise<string[]>;
  /**
   * Runs the build in the buildroot, without network, as the build user; the results are copied to outDir.
   * @throws BuildfleetError 'build-failed' (non-zero exit, with the tool, exit code and the last log lines,
   *   or no output files), 'metadata-invalid', and whatever the buildroot's run() throws ('aborted', 'exec-timeout', ...)
   */
  build(ctx: Context): Promise<void>;
  /** Classifies every file in outDir (sorted by name). */
  collect(outDir: string): Promise<CollectedArtifact[]>;
}
