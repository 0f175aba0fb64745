/**
 * The Buildroot port: where a builder's commands run. Three kinds (container, chroot, host), one
 * contract: prepare() once per build (base system + the dist's packages + the package's build
 * dependencies, cached), then run() the build tool any number of times with the package source
 * at /build/src and the outputs going to /build/out.
 */
import type { OutputStream } from '../../shared/exec/index.ts';
import type { PackageSources } from './package-sources.ts';

export const BUILDROOT_KINDS = ['container', 'chroot', 'host'] as const;
export type BuildrootKind = (typeof BUILDROOT_KINDS)[number];

export type BuildrootLineListener = (line: string, stream: OutputStream) => void;

/** How the dist's base system is bootstrapped with mmdebstrap (all buildroots are Debian-based). */
export interface DistBootstrap {
  /** e.g. `bookworm`. */
  suite: string;
  /** e.g. `http://deb.debian.org/debian`; also the source of apt inside the buildroot. */
  mirror: string;
  /** mmdebstrap variant. @default 'minbase' */
  variant?: string;
  /** @default ['main'] */
  components?: readonly string[];
}

/**
 * A Debian-based container image (apt-get inside) the buildroot starts from instead of a bootstrap,
 * pulled through the container engine (docs/buildroots.md: the pull policy).
 */
export interface DistImage {
  /** `registry[:port]/path/name[:tag]` or `...@sha256:<hex>`; no tag means `latest`. */
  image: string;
}

/** Where the dist's base system comes from (`base` in `dists/<name>.yml`). */
export type BuildrootBase = ({ kind: 'bootstrap' } & DistBootstrap) | ({ kind: 'image' } & DistImage);

/** The base for messages: `bookworm (http://deb.debian.org/debian)` or `image registry/name:tag`. */
export function describeBase(base: BuildrootBase): string {
  return base.kind === 'image' ? `image ${base.image}` : `${base.suite} (${base.mirror})`;
}

/** What a buildroot needs to know about a dist (from `dists/<name>.yml`). */
export interface BuildrootDist {
  /** The dist's name (`bookworm`, `tumbleweed`...): part of image names and cache keys. */
  name: string;
  /** Package format built for the dist; it adds the format's tools (see FORMAT_PACKAGES). */
  format: 'deb' | 'rpm';
  base: BuildrootBase;
  /** Debian packages every buildroot of the dist gets (relations allowed). @default [] */
  packages?: readonly string[];
}

export interface PrepareOptions {
  dist: BuildrootDist;
  /**
   * Build dependencies as Debian relations: `libpopt-dev`, `debhelper-compat (= 13)`,
   * `a | b`. For rpm dists, BuildRequires that name a Debian package of the same name.
   * Names apt does not know fail the prepare ('buildroot-failed', not retriable) naming them.
   */
  buildDeps?: readonly string[];
  /**
   * Package sources of the dependency step beyond the base system's: the dist's repositories
   * with their keys and local copies of our own repositories (package-sources.ts). Part of the
   * dependency layer's cache key. @default none
   */
  sources?: PackageSources;
  /** Who needs the build dependencies (`projects/x/app`): named by a `dependency-unresolvable` error. */
  neededBy?: string;
  signal?: AbortSignal;
  /** Output of bootstrapping and dependency installation. */
  onLine?: BuildrootLineListener;
}

/** How a cached layer (base system, dependencies) was obtained by one prepare(). */
export type CacheOutcome = 'reused' | 'made';

export interface PrepareReport {
  /** Wall time of prepare(). */
  totalMs: number;
  base: CacheOutcome;
  deps: CacheOutcome;
  /** Time spent making (or finding) each layer; `setupMs` is per-build work such as copying a tree. */
  baseMs: number;
  depsMs: number;
  setupMs: number;
}

export interface RunLimits {
  /** Memory of the build's processes together. @default 4096 */
  memoryMb?: number;
  /** Processes and threads together. @default 4096 */
  pids?: number;
  /** CPUs (fractions allowed); container kind only. @default no limit */
  cpus?: number;
  /** The command is stopped after this long ('exec-timeout'). @default 7200000 (2 h) */
  timeoutMs?: number;
}

export interface BuildrootRunOptions {
  /** argv, no shell added; runs in /build/src (the workdir). */
  cmd: readonly string[];
  /** Host directory with the package source, mounted read-write at /build/src. */
  workdir: string;
  /** Host directory for the results, mounted read-write at /build/out. */
  outDir: string;
  /** Network access for the command. @default false (only a loopback interface) */
  network?: boolean;
  /** 'builder' is uid/gid 1000 in the buildroot. @default 'builder' */
  user?: 'builder' | 'root';
  /** Added to a clean environment (HOME, PATH, LANG, BUILDFLEET_SRC, BUILDFLEET_OUT are set). */
  env?: Record<string, string>;
  limits?: RunLimits;
  signal?: AbortSignal;
  onLine?: BuildrootLineListener;
  /** Called once the command runs, with the container id (container kind) or the cgroup name (chroot kind). */
  onStarted?: (handle: string) => void;
}

export interface BuildrootRunResult {
  /** The command's exit code; non-zero is returned, not thrown (the builder turns it into 'build-failed'). */
  exitCode: number;
  durationMs: number;
}

export interface PreparedBuildroot {
  readonly kind: BuildrootKind;
  /** What builds run in: the image tag, the tree's directory, or `host`. */
  readonly environment: string;
  /**
   * Where a run's workdir and outDir appear to its command: /build/src and /build/out, except
   * for the host kind (the host paths themselves). Also in the command's environment as
   * BUILDFLEET_SRC and BUILDFLEET_OUT.
   */
  pathsFor(dirs: { workdir: string; outDir: string }): { src: string; out: string };
  readonly report: PrepareReport;
  /**
   * Runs one command. Throws 'aborted' (signal), 'exec-timeout' (limits.timeoutMs),
   * 'engine-unavailable' or 'buildroot-failed'/'infra-failed' when the buildroot itself fails.
   */
  run(options: BuildrootRunOptions): Promise<BuildrootRunResult>;
  /** Frees per-build resources (the chroot kind's tree copy). Idempotent. */
  release(): Promise<void>;
}

export interface Buildroot {
  readonly kind: BuildrootKind;
  prepare(options: PrepareOptions): Promise<PreparedBuildroot>;
}

/** Where the package source and the outputs appear inside container and chroot buildroots. */
export const BUILD_PATHS = { root: '/build', src: '/build/src', out: '/build/out' } as const;

/** The non-root user builds run as; created by the dependency installation. */
export const BUILDER_USER = { name: 'builder', uid: 1000, gid: 1000, home: '/home/builder' } as const;
