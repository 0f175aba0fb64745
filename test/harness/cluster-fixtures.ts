/** Pieces the runner tests and benchmarks share: the example sources in a git repo, a small topic plan, requests. */
import { randomUUID } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopicSpec } from '../../shared/bus/index.ts';
import { plannedTopics } from '../../shared/bus/index.ts';
import { buildKeyOf, type BuildRequest } from '../../shared/messages/index.ts';
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
