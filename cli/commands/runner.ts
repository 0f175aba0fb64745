import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../../shared/log/index.ts';
import { registerServiceCommand } from './service-command.ts';

export function registerRunner(program: Command): void {
  registerServiceCommand(program, {
    name: 'runner',
    description: 'run a build runner: takes build requests of its group and arches from Kafka',
    configHelp: 'runner config',
    load: async () => (await import('../../runner/main.ts')).runRunnerService,
  });

  const local = program.command('local').description('work on a sources repo without a cluster');
  local
    .command('build <packageDir>')
    .description('build one package through the runner code path, no cluster; artifacts go to --out')
    .option('--target <dist.arch>', 'which target to build (default: the first one the package declares)')
    .option('--out <dir>', 'where artifacts and build.log go', 'out')
    .option('--json', 'print { state, artifacts: [{ name, path, sha256, size }], log } as JSON')
    .option('--buildroot <kind>', 'auto | container | chroot | host', 'auto')
    .option('--engine-socket <path>', 'Docker API socket (Docker or podman system service)', '/run/podman/podman.sock')
    .option('--cache <dir>', 'git mirrors and buildroot caches', join(homedir(), '.cache', 'buildfleet'))
    .action(
      async (
        packageDir: string,
        options: {
          target?: string;
          out: string;
          json?: boolean;
          buildroot: string;
          engineSocket: string;
          cache: string;
        },
      ) => {
        const { localBuild } = await import('../../runner/local-build.ts');
        const kind = options.buildroot;
        if (kind !== 'auto' && kind !== 'container' && kind !== 'chroot' && kind !== 'host') {
          throw new Error(`--buildroot must be auto, container, chroot or host (got ${kind})`);
        }
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        const result = await localBuild({
          packageDir,
          ...(options.target ? { target: options.target } : {}),
          outDir: options.out,
          buildroot: kind,
          engineSocket: options.engineSocket,
          cacheDir: options.cache,
          logger: createLogger({ name: 'local-build', level: 'warn', destination: process.stderr }),
          onLog: (lines) => {
            if (!options.json) for (const line of lines) process.stderr.write(`${line}\n`);
          },
          signal: controller.signal,
        });
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          process.stdout.write(
            `${result.state}${result.error ? `: [${result.error.code}] ${result.error.message}` : ''}\n`,
          );
          for (const a of result.artifacts) process.stdout.write(`  ${a.path}  ${a.size} bytes  sha256 ${a.sha256}\n`);
          process.stdout.write(`  log: ${result.log}\n`);
        }
        process.exitCode = result.state === 'succeeded' ? 0 : 1;
      },
    );
}
