/**
 * The noop builder, for benchmarks and tests only: no buildroot, no build tool. It waits the
 * package's `noop.ms` and writes one file `<name>_<commit 12>.noop` of `noop.bytes` bytes whose
 * content depends only on the build id and the commit, so every attempt of a build uploads the
 * same bytes. docs/builders.md.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildfleetError, throwIfAborted, toBuildfleetError } from '../../shared/errors/index.ts';
import { compileLimits } from '../buildroot/run-settings.ts';
import { collectArtifacts } from './artifacts.ts';
import type { Builder, NoopBuildContext } from './types.ts';

/** Suffix of the file a noop build writes; artifactKindOf() calls it 'other'. */
const NOOP_SUFFIX = '.noop';

/** Pure: `hello_0123456789ab.noop`. */
export function noopArtifactName(name: string, commit: string): string {
  return `${name}_${commit.slice(0, 12)}${NOOP_SUFFIX}`;
}

/** Pure: `size` bytes from SHA-256 blocks of the build id and commit (the same for every attempt). */
export function noopArtifactBytes(build: { buildId: string; commit: string }, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, block = 0; offset < size; block++) {
    const digest = createHash('sha256').update(`buildfleet noop\0${build.buildId}\0${build.commit}\0${block}`).digest();
    offset += digest.copy(out, offset);
  }
  return out;
}

/**
 * Waits `ms`, or as long as the build may run and then fails with 'exec-timeout'. An abort
 * ends the wait at once with 'aborted'.
 */
async function waitFor(ms: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(Math.min(ms, timeoutMs), undefined, { signal });
  } catch (error) {
    throwIfAborted(signal);
    throw toBuildfleetError(error);
  }
  if (ms > timeoutMs) {
    throw new BuildfleetError(
      'exec-timeout',
      `noop build: waiting ${ms} ms ran into the time limit of ${timeoutMs} ms`,
      {
        context: { ms, timeoutMs },
      },
    );
  }
}

async function build(ctx: NoopBuildContext): Promise<void> {
  throwIfAborted(ctx.signal);
  const { ms, bytes, logLines, fail } = ctx.pkg.noop;
  for (let line = 1; line <= logLines; line += 1) ctx.onLine(`noop: line ${line}`, 'stdout');
  ctx.onLine(`noop: waiting ${ms} ms`, 'stdout');
  await waitFor(ms, compileLimits(ctx.limits).timeoutMs, ctx.signal);
  if (fail !== undefined) {
    ctx.onLine(`noop: failing: ${fail}`, 'stderr');
    throw new BuildfleetError('build-failed', `noop build failed: ${fail}`, { retriable: false });
  }
  const name = noopArtifactName(ctx.pkg.name, ctx.build.commit);
  await writeFile(join(ctx.outDir, name), noopArtifactBytes(ctx.build, bytes), { signal: ctx.signal });
  ctx.onLine(`noop: wrote ${name} (${bytes} bytes)`, 'stdout');
}

export function createNoopBuilder(): Builder<NoopBuildContext> {
  return {
    kind: 'noop',
    needsBuildroot: false,
    buildDeps: async () => [],
    build,
    collect: collectArtifacts,
  };
}
