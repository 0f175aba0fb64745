/**
 * Pieces the runner tests and benchmarks share: the example sources in a git repo, a small topic
 * plan, requests, artifacts in the store.
 */
import { createHash, randomUUID } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopicSpec } from '../../shared/bus/index.ts';
import { plannedTopics } from '../../shared/bus/index.ts';
import { artifactKindOf } from '../../runner/builders/index.ts';
import { buildKeyOf, type Artifact, type BuildRequest } from '../../shared/messages/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import type { TestGitRepo, TestGitRepos } from './git.ts';

const examples = fileURLToPath(new URL('../../examples/sources', import.meta.url));

/**
 * A new git repo holding examples/sources (dists and projects), not yet committed. `projects`
 * limits it to some directories of examples/sources/projects (e.g. `['demo']`: the deb and rpm
 * examples only), for tests that see every package of the repo.
 */
export async function exampleSourcesRepo(
  repos: TestGitRepos,
  options: { projects?: readonly string[] } = {},
): Promise<TestGitRepo> {
  const repo = await repos.create('sources');
  await cp(join(examples, 'dists'), join(repo.dir, 'dists'), { recursive: true });
  if (options.projects === undefined) {
    await cp(join(examples, 'projects'), join(repo.dir, 'projects'), { recursive: true });
  } else {
    for (const dir of options.projects) {
      await cp(join(examples, 'projects', dir), join(repo.dir, 'projects', dir), { recursive: true });
    }
  }
  return repo;
}

/** Every topic of the design under `prefix`, one runner group `default` for x86_64, short retention. */
export function testTopics(prefix: string, requestPartitions = 1): TopicSpec[] {
  return plannedTopics(prefix, {
    replication: 1,
    runnerGroups: [{ name: 'default', arches: ['x86_64'], partitions: requestPartitions }],
    partitions: {
      submit: 1,
      events: requestPartitions,
      logs: requestPartitions,
      control: 1,
      info: 1,
      state: 1,
      deadletter: 1,
    },
    retentionHours: { submit: 1, requests: 1, events: 1, logs: 1, control: 1, info: 1, deadletter: 1 },
  });
}

/** A build request for runner group `default`, attempt 1. */
export function testRequest(options: {
  project: string;
  dist: string;
  kind: BuildRequest['kind'];
  url: string;
  commit: string;
  arch?: string;
  leaseMs?: number;
}): BuildRequest {
  const target = { dist: options.dist, arch: options.arch ?? 'x86_64' };
  return {
    v: 1,
    type: 'build.request',
    buildId: randomUUID(),
    attempt: 1,
    buildKey: buildKeyOf(options.project, target),
    project: options.project,
    kind: options.kind,
    target,
    runnerGroup: 'default',
    source: { url: options.url, commit: options.commit },
    submitId: randomUUID(),
    leaseMs: options.leaseMs ?? 60_000,
  };
}

/** What a runner does with a file it built: into the store under the build's attempt 1, described as an artifact. */
export async function storedArtifact(
  store: ArtifactStore,
  buildId: string,
  file: { name: string; bytes: Buffer; kind?: Artifact['kind'] },
  options: { upload?: boolean } = {},
): Promise<Artifact> {
  const key = `builds/${buildId}/attempt-1/${file.name}`;
  if (options.upload ?? true) await store.put(key, file.bytes);
  return {
    name: file.name,
    kind: file.kind ?? artifactKindOf(file.name),
    size: file.bytes.length,
    sha256: createHash('sha256').update(file.bytes).digest('hex'),
    key,
  };
}
