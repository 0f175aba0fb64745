import { Command, CommanderError } from 'commander';
import { isBuildfleetError } from '../shared/errors/index.ts';
import { registerAcls } from './commands/acls.ts';
import { registerArtifacts } from './commands/artifacts.ts';
import { registerBuild } from './commands/build.ts';
import { registerCancel } from './commands/cancel.ts';
import { registerGraph } from './commands/graph.ts';
import { registerCollector } from './commands/collector.ts';
import { registerInfoService } from './commands/info-service.ts';
import { registerLogs } from './commands/logs.ts';
import { registerRepos } from './commands/repos.ts';
import { registerRunner } from './commands/runner.ts';
import { registerStatus } from './commands/status.ts';
import { registerScheduler } from './commands/scheduler.ts';
import { registerTokens } from './commands/tokens.ts';
import { registerTopics } from './commands/topics.ts';
import { registerUp } from './commands/up.ts';
import { registerWatch } from './commands/watch.ts';

const program = new Command('buildfleet')
  .description('buildfleet: a Kafka-based build cluster for rpm, deb, KIWI and docker artifacts')
  .showHelpAfterError()
  .exitOverride();

registerTopics(program);
registerAcls(program);
registerRunner(program);
registerCollector(program);
registerInfoService(program);
registerRepos(program);
registerBuild(program);
registerStatus(program);
registerWatch(program);
registerLogs(program);
registerCancel(program);
registerArtifacts(program);
registerGraph(program);
registerTokens(program);

registerUp(program);
registerScheduler(program);

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
