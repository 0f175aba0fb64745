import type { Command } from 'commander';
import type { RepoListing } from '../../shared/repos/catalog.ts';
import { formatRepos } from '../format/repos.ts';
import { withClient, withConnectionOptions, type ClientCommandOptions } from './client-options.ts';

interface ReposOptions extends ClientCommandOptions {
  config?: string;
}

export function registerRepos(program: Command): void {
  withConnectionOptions(
    program
      .command('repos')
      .description(
        'list the published repositories with the lines apt and dnf need: from the store a collector config names ' +
          '(--config), else from the cluster (GET /api/repos)',
      )
      .option('--config <file>', 'a collector config: its storage and publicUrl say where the repositories are')
      .option('--json', 'print [{ key, format, dist, url, keyUrl, version, publishedAt }]'),
  ).action(async (options: ReposOptions) => {
    const repos =
      options.config !== undefined
        ? await fromCollectorConfig(options.config)
        : await withClient(options, (client) => client.repos());
    process.stdout.write(options.json ? `${JSON.stringify(repos, null, 2)}\n` : formatRepos(repos));
  });
}

async function fromCollectorConfig(file: string): Promise<RepoListing[]> {
  const [{ loadConfig }, { CollectorConfig }, { storeFromConfig }, { listRepositories }] = await Promise.all([
    import('../../shared/config/index.ts'),
    import('../../collector/config.ts'),
    import('../../shared/storage/from-config.ts'),
    import('../../shared/repos/catalog.ts'),
  ]);
  const config = loadConfig(CollectorConfig, { file });
  const store = await storeFromConfig(config.storage);
  try {
    return await listRepositories(store, config.collector.publicUrl);
  } finally {
    await store.close();
  }
}
