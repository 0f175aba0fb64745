import { Command, CommanderError } from 'commander';
import { isBuildfleetError } from '../shared/errors/index.ts';
import { registerCollector } from './commands/collector.ts';
import { registerRepos } from './commands/repos.ts';
import { registerRunner } from './commands/runner.ts';
import { registerTopics } from './commands/topics.ts';

const program = new Command('buildfleet')
  .description('buildfleet: a Kafka-based build cluster for rpm, deb, KIWI and docker artifacts')
  .showHelpAfterError()
  .exitOverride();

registerTopics(program);
registerRunner(program);
registerCollector(program);
registerRepos(program);

program
  .command('up')
  .description('run every service in one process (all-in-one mode)')
  .action(() => {
    process.stderr.write(
      'buildfleet up: the all-in-one cluster is not built yet (runner, collector, scheduler and info service come next).\n' +
        'What works today: `buildfleet topics ensure --brokers <list>`, and the test suite (`npm test`).\n',
    );
    process.exitCode = 2;
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (isBuildfleetError(error)) {
    process.stderr.write(`buildfleet: [${error.code}] ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`buildfleet: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
