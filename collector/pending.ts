import { createHash } from 'node:crypto';
import { isBuildfleetError } from '../shared/errors/index.ts';
import type { BuildEvent } from '../shared/messages/index.ts';
import type { RepoFormat } from '../shared/repos/layout.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';

const PREFIX = 'collector/pending';

/**
 * Successes accepted but not yet published, written to the artifact store before the event's
 * offset is committed: the collector can then coalesce a burst into one publish, and a
 * collector that dies mid-publish finds them again when it restarts.
 */
export class PendingBuilds {
  constructor(private readonly store: ArtifactStore) {}

  private key(repoKey: string, format: RepoFormat, buildId: string): string {
    const repo = createHash('sha256').update(repoKey).digest('hex').slice(0, 24);
    return `${PREFIX}/${format}/${repo}/${buildId.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
  }

  async add(format: RepoFormat, event: BuildEvent): Promise<void> {
    await this.store.put(this.key(event.repoKey, format, event.buildId), JSON.stringify(event));
  }

  async remove(format: RepoFormat, event: BuildEvent): Promise<void> {
    await this.store.delete(this.key(event.repoKey, format, event.buildId));
  }

  /** Every pending success, with its format, for one repository or all. */
  async list(filter?: {
    repoKey: string;
    format: RepoFormat;
  }): Promise<Array<{ format: RepoFormat; event: BuildEvent }>> {
    const prefix = filter ? this.key(filter.repoKey, filter.format, '').replace(/\/\.json$/, '/') : `${PREFIX}/`;
    const found: Array<{ format: RepoFormat; event: BuildEvent }> = [];
    for await (const entry of this.store.list(prefix)) {
      // Some S3 servers list an object still being written under a temporary name.
      if (!entry.key.endsWith('.json')) continue;
      const format = entry.key.slice(PREFIX.length + 1).split('/')[0] as RepoFormat;
      let bytes: Buffer;
      try {
        bytes = await this.store.get(entry.key);
      } catch (error) {
        if (isBuildfleetError(error, 'storage-not-found')) continue; // published and removed meanwhile
        throw error;
      }
      const event = JSON.parse(bytes.toString('utf8')) as BuildEvent;
      if (!filter || event.repoKey === filter.repoKey) found.push({ format, event });
    }
    return found;
  }
}
