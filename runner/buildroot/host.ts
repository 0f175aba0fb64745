/**
 * The host kind: commands run directly on the runner, in the workdir, as the runner's user.
 * No isolation, no dependency installation, no limits but the time limit: development only.
 * Only the runner's environment is kept apart: commands get a clean one (hostBuildEnvironment:
 * PATH, HOME, C.UTF-8, runner.buildEnvAllow names, the builder's own), never its secrets.
 */
import type { Logger } from '../../shared/log/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { throwIfAborted } from '../../shared/errors/index.ts';
import { compileLimits, hostBuildEnvironment, type HostEnvSource } from './run-settings.ts';
import type { Buildroot, PreparedBuildroot } from './types.ts';

export const HOST_WARNING = 'host buildroot: no isolation';

/** Every exit code counts as a result: the builder decides what a non-zero code means. */
const ANY_EXIT_CODE = Array.from({ length: 256 }, (_, code) => code);

export interface HostBuildrootOptions {
  logger: Logger;
  /** Where PATH and the allow-listed names come from. @default no inherited variables */
  env?: HostEnvSource;
}

export function createHostBuildroot(options: HostBuildrootOptions): Buildroot {
  const { logger } = options;
  const envSource = options.env ?? { inherited: {} };
  return {
    kind: 'host',
    async prepare(prepare): Promise<PreparedBuildroot> {
      throwIfAborted(prepare.signal);
      logger.warn({ dist: prepare.dist.name, buildDeps: prepare.buildDeps ?? [] }, HOST_WARNING);
      prepare.onLine?.(`${HOST_WARNING}; build dependencies are not installed`, 'stderr');
      return {
        kind: 'host',
        environment: 'host',
        pathsFor: ({ workdir, outDir }) => ({ src: workdir, out: outDir }),
        report: { totalMs: 0, base: 'reused', deps: 'reused', baseMs: 0, depsMs: 0, setupMs: 0 },
        async run(run) {
          const limits = compileLimits(run.limits);
          const [file, ...args] = run.cmd;
          if (file === undefined) throw new TypeError('run: cmd is empty');
          run.onLine?.(HOST_WARNING, 'stderr');
          const result = await runCommand(file, args, {
            cwd: run.workdir,
            env: hostBuildEnvironment(run, envSource),
            extendEnv: false,
            signal: run.signal,
            timeoutMs: limits.timeoutMs,
            onLine: run.onLine,
            okExitCodes: ANY_EXIT_CODE,
            keepOutputChars: 4096,
          });
          return { exitCode: result.exitCode, durationMs: result.durationMs };
        },
        async release() {},
      };
    },
  };
}
