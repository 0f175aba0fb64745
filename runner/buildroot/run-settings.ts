/** run() options with defaults applied and units normalised, shared by every kind. */
import { BuildfleetError } from '../../shared/errors/index.ts';
import { BUILD_PATHS, BUILDER_USER, type BuildrootRunOptions, type RunLimits } from './types.ts';

const DEFAULT_RUN_LIMITS = { memoryMb: 4096, pids: 4096, timeoutMs: 2 * 60 * 60 * 1000 } as const;

export interface CompiledLimits {
  memoryBytes: number;
  pids: number;
  cpus: number | undefined;
  timeoutMs: number;
}

export function compileLimits(limits: RunLimits = {}): CompiledLimits {
  const memoryMb = positive('limits.memoryMb', limits.memoryMb ?? DEFAULT_RUN_LIMITS.memoryMb);
  return {
    memoryBytes: Math.round(memoryMb * 1024 * 1024),
    pids: Math.floor(positive('limits.pids', limits.pids ?? DEFAULT_RUN_LIMITS.pids)),
    cpus: limits.cpus === undefined ? undefined : positive('limits.cpus', limits.cpus),
    timeoutMs: positive('limits.timeoutMs', limits.timeoutMs ?? DEFAULT_RUN_LIMITS.timeoutMs),
  };
}

function positive(key: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new BuildfleetError('config-invalid', `${key} must be a positive number, got ${value}`, { context: { key } });
  }
  return value;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The command's whole environment inside a container or chroot: nothing leaks in from the
 * runner (tokens, proxies); the caller's `env` comes last and wins.
 */
export function buildEnvironment(run: BuildrootRunOptions): Record<string, string> {
  const asRoot = run.user === 'root';
  return {
    PATH,
    HOME: asRoot ? '/root' : BUILDER_USER.home,
    USER: asRoot ? 'root' : BUILDER_USER.name,
    LOGNAME: asRoot ? 'root' : BUILDER_USER.name,
    LANG: 'C.UTF-8',
    BUILDFLEET_SRC: BUILD_PATHS.src,
    BUILDFLEET_OUT: BUILD_PATHS.out,
    ...run.env,
  };
}

/** What the host kind may take from the runner's environment (runner.buildEnvAllow). */
export interface HostEnvSource {
  /** The runner's environment; only PATH and the `allow`ed names are read from it. */
  inherited: Readonly<Record<string, string | undefined>>;
  /** Further variable names passed through (e.g. `http_proxy`). @default [] */
  allow?: readonly string[];
}

/**
 * The command's whole environment on the host kind: the runner's PATH (host tools), HOME the
 * build's own directory, C.UTF-8, the allow-listed names, then the builder's `env`. Never the
 * rest of the runner's environment: BUILDFLEET_* settings, AWS_* keys and tokens would reach
 * every build script.
 */
export function hostBuildEnvironment(run: BuildrootRunOptions, source: HostEnvSource): Record<string, string> {
  const allowed: Record<string, string> = {};
  for (const name of source.allow ?? []) {
    const value = source.inherited[name];
    if (value !== undefined) allowed[name] = value;
  }
  return {
    PATH: source.inherited['PATH'] ?? PATH,
    HOME: run.workdir,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ...allowed,
    ...run.env,
    BUILDFLEET_SRC: run.workdir,
    BUILDFLEET_OUT: run.outDir,
  };
}
