/**
 * What both builders share: reading a build file of the package, and running one shell script in
 * the buildroot with a non-zero exit turned into 'build-failed' that carries the log's last lines.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { PackageSpec } from '../../shared/sources/index.ts';
import { LineTail } from './line-tail.ts';
import type { BuildrootBuildContext } from './types.ts';

/** Lines of the log quoted in a 'build-failed' message: enough for a compiler error and its context. */
export const FAILURE_TAIL_LINES = 30;

/**
 * Text of a file of the package, by its path relative to the package directory (`dir`, default
 * the package's own; a build reads its copy in srcDir).
 * @throws BuildfleetError('metadata-invalid') naming `<project>/<file>` when it cannot be read
 */
export async function readPackageFile(pkg: PackageSpec, file: string, dir: string = pkg.dir): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BuildfleetError('metadata-invalid', `${pkg.project}/${file}: cannot be read (${reason})`, {
      cause: error,
      context: { file: `${pkg.project}/${file}` },
    });
  }
}

export interface BuildScript {
  /** The build tool, for messages: `dpkg-buildpackage`. */
  tool: string;
  /** POSIX sh script; it finds its inputs in BUILDFLEET_SRC, BUILDFLEET_OUT and `env`. */
  script: string;
  env: Record<string, string>;
}

/**
 * Runs `sh -c <script>` as the build user without network. Exit code 0 with an empty outDir is a
 * failure too: a build that made nothing must not look like a success.
 */
export async function runBuildScript(ctx: BuildrootBuildContext, step: BuildScript): Promise<void> {
  const tail = new LineTail(FAILURE_TAIL_LINES);
  const result = await ctx.buildroot.run({
    cmd: ['sh', '-c', step.script, `buildfleet-${step.tool}`],
    workdir: ctx.srcDir,
    outDir: ctx.outDir,
    network: false,
    user: 'builder',
    env: step.env,
    ...(ctx.limits === undefined ? {} : { limits: ctx.limits }),
    signal: ctx.signal,
    onLine: (line, stream) => {
      tail.push(line);
      ctx.onLine(line, stream);
    },
  });
  const lastLines = tail.snapshot();
  if (result.exitCode !== 0) {
    throw new BuildfleetError(
      'build-failed',
      `${step.tool} failed with exit code ${result.exitCode} (${ctx.pkg.project}); last lines of the log:\n` +
        lastLines.join('\n'),
      { context: { tool: step.tool, exitCode: result.exitCode, project: ctx.pkg.project, lastLines } },
    );
  }
  if ((await readdir(ctx.outDir)).length === 0) {
    throw new BuildfleetError('build-failed', `${step.tool} exited with 0 but left no result files`, {
      context: { tool: step.tool, exitCode: 0, project: ctx.pkg.project, lastLines },
    });
  }
}
