/**
 * The dependency graph is the same through the CLI computing it (`graph --sources <git url>`)
 * and through a real info service with sources configured (`GET /api/graph`, `graph --api`):
 * for the example sources (libbfgreet and bfgreet make an edge) and for a generated repo of
 * 1,000 noop packages in a DAG whose edges the test knows. `--dot` and `--why` print what they
 * should; a dist the repo does not define is a 400 naming `dist`; without sources, 503.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createGraphSource } from '../../info-service/graph-source.ts';
import { createInfoService } from '../../info-service/info-service.ts';
import { EmbeddedBroker } from '../../shared/bus/embedded/broker.ts';
import { createEmbeddedBus } from '../../shared/bus/embedded/bus.ts';
import { createHttpAuth, createTokenSource } from '../../shared/http/index.ts';
import type { SourceGraph } from '../../shared/sources/index.ts';
import { createFsArtifactStore } from '../../shared/storage/index.ts';
import { dagSourcesRepo, type DagRepo } from '../bench/graph-repo.ts';
import { cli } from '../harness/cli-process.ts';
import { exampleSourcesRepo, testTopics } from '../harness/cluster-fixtures.ts';
import { testGitRepos, type TestGitRepo, type TestGitRepos } from '../harness/git.ts';

type Answer = SourceGraph & { commit: string };

describe('dependency graph: CLI and HTTP API', { timeout: 300_000 }, () => {
  const logger = pino({ level: process.env['BUILDFLEET_TEST_LOG'] ?? 'silent' });
  const broker = new EmbeddedBroker();
  const cleanups: Array<() => Promise<void>> = [];
  let repos: TestGitRepos;
  let examples: TestGitRepo;
  let examplesCommit: string;
  let dag: DagRepo;
  let examplesApi: string;
  let dagApi: string;
  let bareApi: string;

  /** An info service on the embedded bus; with `sourcesUrl` it answers the graph of that repo. */
  async function startInfo(sourcesUrl?: string): Promise<string> {
    const prefix = `graph${randomUUID().slice(0, 8)}`;
    const bus = createEmbeddedBus({ broker, topicPrefix: prefix, logger });
    cleanups.push(() => bus.close());
    await bus.ensureTopics(testTopics(prefix));
    const dir = await mkdtemp(join(tmpdir(), 'buildfleet-graph-info-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await createFsArtifactStore({ root: join(dir, 'store') });
    cleanups.push(() => store.close());
    const service = createInfoService({
      bus,
      store,
      logger,
      instanceId: prefix,
      publicUrl: 'http://127.0.0.1:1/repos',
      serveRepos: false,
      catchUpQuietMs: 200,
      ...(sourcesUrl
        ? { graphs: createGraphSource({ url: sourcesUrl, branch: 'main', workDir: join(dir, 'work'), logger }) }
        : {}),
    });
    // anonymous reads, as on `buildfleet up`: the graph is a read
    const auth = createHttpAuth({ anonymous: 'read', tokens: createTokenSource({}) });
    const server = await service.listen({ host: '127.0.0.1', port: 0, auth });
    cleanups.push(() => service.stop());
    cleanups.push(() => server.close());
    await service.start();
    return server.url;
  }

  const getGraph = async (api: string, query = ''): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${api}/api/graph${query}`);
    return { status: response.status, body: await response.json() };
  };

  async function cliJson(args: string[]): Promise<Answer> {
    const run = await cli(['graph', ...args, '--json']);
    assert.equal(run.exitCode, 0, run.stderr);
    return JSON.parse(run.stdout) as Answer;
  }

  before(async () => {
    repos = await testGitRepos('buildfleet-graph-');
    cleanups.push(() => repos.cleanup());
    examples = await exampleSourcesRepo(repos);
    examplesCommit = await examples.commit('examples');
    dag = await dagSourcesRepo(repos, { packages: 1000, depth: 12, seed: 7 });
    [examplesApi, dagApi, bareApi] = await Promise.all([startInfo(examples.url), startInfo(dag.repo.url), startInfo()]);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('examples: the same graph through --sources, the API and --api, with the libbfgreet edge', async () => {
    const local = await cliJson(['--sources', examples.url]);
    const { status, body } = await getGraph(examplesApi);
    assert.equal(status, 200);
    const remote = await cliJson(['--api', examplesApi]);
    assert.deepEqual(body, local);
    assert.deepEqual(remote, local);
    assert.equal(local.commit, examplesCommit);
    assert.deepEqual(
      local.dists.map((d) => d.dist),
      ['bookworm', 'rpm-bookworm'],
    );
    const bookworm = local.dists[0];
    assert.deepEqual(bookworm?.edges, [
      {
        dist: 'bookworm',
        from: 'projects/greet/bfgreet',
        to: 'projects/greet/libbfgreet',
        packages: ['libbfgreet-dev'],
      },
    ]);
    assert.deepEqual(bookworm?.nodes.find((n) => n.project === 'projects/greet/libbfgreet')?.provides, [
      'libbfgreet-dev',
      'libbfgreet1',
    ]);
    assert.equal(local.dists[1]?.nodes.find((n) => n.project === 'projects/demo/hello-rpm')?.kind, 'rpm');
    assert.deepEqual(local.problems, []);
  });

  it('1,000 packages: the same graph through --sources and the API, with exactly the generated edges', async () => {
    const local = await cliJson(['--sources', dag.repo.url]);
    const { status, body } = await getGraph(dagApi, `?dist=${dag.dist}`);
    assert.equal(status, 200);
    const remote = await cliJson(['--api', dagApi, '--dist', dag.dist]);
    assert.deepEqual(body, local);
    assert.deepEqual(remote, local);
    assert.equal(local.commit, dag.commit);
    const graph = local.dists[0];
    assert.equal(graph?.nodes.length, 1000);
    const expected = [...dag.needs].flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}`)).sort();
    assert.ok(expected.length > 1000, `the DAG has ${expected.length} edges`);
    assert.deepEqual(
      graph?.edges.map((e) => `${e.from} -> ${e.to}`),
      expected,
    );
    assert.deepEqual(graph?.cycles, []);
    assert.deepEqual(local.problems, []);
  });

  it('--dot draws every edge with its package; --why shows both directions', async () => {
    const dot = await cli(['graph', '--sources', examples.url, '--dot', '--dist', 'bookworm']);
    assert.equal(dot.exitCode, 0, dot.stderr);
    assert.match(dot.stdout, /^digraph buildfleet \{/);
    assert.ok(
      dot.stdout.includes(
        '"bookworm:projects/greet/bfgreet" -> "bookworm:projects/greet/libbfgreet" [label="libbfgreet-dev"];',
      ),
      dot.stdout,
    );
    assert.doesNotMatch(dot.stdout, /rpm-bookworm/);

    const why = await cli(['graph', '--api', examplesApi, '--why', 'projects/greet/libbfgreet']);
    assert.equal(why.exitCode, 0, why.stderr);
    assert.match(why.stdout, /projects\/greet\/libbfgreet in dist bookworm provides libbfgreet-dev, libbfgreet1/);
    assert.match(why.stdout, /waits for \(needs of ours\): nothing/);
    assert.match(why.stdout, /waited for by:\n {4}projects\/greet\/bfgreet \(libbfgreet-dev\)/);
    assert.match(why.stdout, /in no cycle/);

    // A package in the middle of the DAG: what it needs and what needs it, as generated.
    const [middle, needs] = [...dag.needs].find(([, tos]) => tos.length >= 2) ?? ['', []];
    const dependants = [...dag.needs].filter(([, tos]) => tos.includes(middle)).map(([from]) => from);
    const whyJson = await cli(['graph', '--api', dagApi, '--why', middle, '--json']);
    assert.equal(whyJson.exitCode, 0, whyJson.stderr);
    const [answer] = JSON.parse(whyJson.stdout) as Array<{
      dependencies: Array<{ to: string }>;
      dependants: Array<{ from: string }>;
      external: string[];
    }>;
    assert.deepEqual(
      answer?.dependencies.map((e) => e.to),
      needs,
    );
    assert.deepEqual(answer?.dependants.map((e) => e.from).sort(), dependants.sort());
    assert.deepEqual(answer?.external, ['gcc']);
  });

  it('an unknown dist is a 400 naming dist (API) and exit 1 (CLI); without sources the API answers 503', async () => {
    const { status, body } = await getGraph(examplesApi, '?dist=nowhere');
    assert.equal(status, 400);
    const error = (body as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'request-invalid');
    assert.match(error.message, /dist "nowhere"/);
    const run = await cli(['graph', '--api', examplesApi, '--dist', 'nowhere']);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /\[request-invalid\] dist "nowhere"/);

    const bare = await getGraph(bareApi);
    assert.equal(bare.status, 503);
    assert.equal((bare.body as { error: { code: string } }).error.code, 'sources-unconfigured');
    const unknownRef = await getGraph(examplesApi, '?ref=no-such-branch');
    assert.equal(unknownRef.status, 404);
  });
});
