import type { Command } from 'commander';

export function registerRepos(program: Command): void {
  program
    .command('repos')
    .description('list the published repositories with the lines apt and dnf need')
    .option('--config <file>', 'a collector config: its storage and publicUrl say where the repositories are')
    .option('--json', 'print [{ key, format, dist, url, keyUrl, version, publishedAt }]')
    .action(async (options: { config?: string; json?: boolean }) => {
      const [{ loadConfig }, { CollectorConfig }, { storeFromConfig }, { listRepositories }] = await Promise.all([
        import('../../shared/config/index.ts'),
        import('../../collector/config.ts'),
        import('../../shared/storage/from-config.ts'),
        import('../../shared/repos/catalog.ts'),
      ]);
      const config = loadConfig(CollectorConfig, options.config ? { file: options.config } : {});
      const store = await storeFromConfig(config.storage);
      try {
        const repos = await listRepositories(store, config.collector.publicUrl);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(repos, null, 2)}\n`);
          return;
        }
        for (const repo of repos) {
          process.stdout.write(`${repo.key} (${repo.format}, version ${repo.version})\n`);
          if (repo.format === 'apt') {
            process.stdout.write(`  deb [signed-by=/etc/apt/keyrings/buildfleet.asc] ${repo.url} ${repo.dist} main\n`);
          } else if (repo.format === 'rpm') {
            process.stdout.write(`  baseurl=${repo.url}  gpgcheck=1  repo_gpgcheck=1  gpgkey=${repo.keyUrl}\n`);
          }
          process.stdout.write(`  key: ${repo.keyUrl}\n`);
        }
      } finally {
        await store.close();
      }
    });
}
