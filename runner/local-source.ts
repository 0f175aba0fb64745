import { cp, mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { BuildfleetError } from '../shared/errors/index.ts';
import type { SourceRepo } from '../shared/sources/index.ts';

/**
 * A SourceRepo over a directory on disk, for `buildfleet local build`: "checking out" copies
 * the files as they are now (uncommitted changes included, .git left out), so a developer
 * builds what they see through the same build job as the cluster.
 */
export function workingTreeSource(root: string): SourceRepo {
  return {
    async checkout(request) {
      const started = Date.now();
      request.signal?.throwIfAborted();
      await mkdir(request.dest, { recursive: true });
      await cp(root, request.dest, { recursive: true, filter: (path) => basename(path) !== '.git' });
      return { dir: request.dest, commit: request.commit, durationMs: Date.now() - started, fetched: false };
    },
    resolveRef() {
      return Promise.reject(new BuildfleetError('internal', 'a working tree has no refs'));
    },
    changedPaths() {
      return Promise.reject(new BuildfleetError('internal', 'a working tree has no history'));
    },
  };
}
