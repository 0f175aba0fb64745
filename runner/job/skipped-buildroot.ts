/**
 * The buildroot of a build whose builder runs nothing in one (noop): nothing is prepared, and a
 * command run in it is a programming error.
 */
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { BuildrootKind, PreparedBuildroot } from '../buildroot/types.ts';

export function skippedBuildroot(kind: BuildrootKind): PreparedBuildroot {
  return {
    kind,
    environment: 'none',
    pathsFor: ({ workdir, outDir }) => ({ src: workdir, out: outDir }),
    report: { totalMs: 0, base: 'reused', deps: 'reused', baseMs: 0, depsMs: 0, setupMs: 0 },
    run: () => Promise.reject(new BuildfleetError('internal', 'this build prepared no buildroot to run commands in')),
    release: () => Promise.resolve(),
  };
}
