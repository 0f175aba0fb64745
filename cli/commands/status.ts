/** `buildfleet status <project | buildId>`: the record of one build, or the latest build of each target of a project. */
import type { Command } from 'commander';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { InfoQueryListLimit, submissionProgress, type BuildRecord, type Target } from '../../shared/messages/index.ts';
import type { ClusterClient } from '../client/port.ts';
import { formatRecords } from '../format/records.ts';
import { looksLikeBuildId, parseTarget } from '../format/targets.ts';
import { printJson, withClient, withConnectionOptions, type ClientCommandOptions } from './client-options.ts';

interface StatusOptions extends ClientCommandOptions {
  target?: Target;
}

export function registerStatus(program: Command): void {
  withConnectionOptions(
    program
      .command('status <projectOrBuildId>')
      .description(
        'show a build (by id) or the latest build of each target of a project: state, attempt, runner, commit, ' +
          'durations, error, repository, artifacts; for a submission id, its progress and the builds not published',
      )
      .option('--target <dist.arch>', 'for a project: only this target', parseTarget)
      .option('--json', 'print the build records as a JSON array'),
  ).action(async (subject: string, options: StatusOptions) => {
    const records = await withClient(options, (client) => lookUp(client, subject, options.target));
    if (options.json) {
      printJson(records);
      return;
    }
    // A submission's builds (build --all, rebuild --dependants): how far it is, and what is not published.
    const submission =
      records.length > 0 && records.every((r) => r.submitId === subject) && !records.some((r) => r.buildId === subject);
    if (!submission) {
      process.stdout.write(formatRecords(records));
      return;
    }
    process.stdout.write(`submission ${subject}: ${submissionProgress(subject, records).text}\n`);
    const open = records.filter((r) => r.state !== 'published');
    if (open.length > 0) process.stdout.write(`\n${formatRecords(open)}`);
  });
}

/** A uuid is a build id or a submission id; anything else is tried as those (when it has no "/") and then as a project. */
async function lookUp(client: ClusterClient, subject: string, target: Target | undefined): Promise<BuildRecord[]> {
  if (looksLikeBuildId(subject) || !subject.includes('/')) {
    const builds = await client.builds({ buildId: subject });
    if (builds.length > 0) return builds;
    const submitted = await client.builds({ list: { submitId: subject, limit: InfoQueryListLimit.max } });
    if (submitted.length > 0) return submitted;
    if (looksLikeBuildId(subject)) {
      throw new BuildfleetError('build-unknown', `build ${subject} is unknown`, { context: { buildId: subject } });
    }
  }
  const builds = await client.builds({ project: subject, ...(target ? { target } : {}) });
  if (builds.length === 0) {
    const which = target ? ` for ${target.dist}.${target.arch}` : '';
    throw new BuildfleetError('not-found', `no build known of project ${subject}${which} (nor a build with that id)`, {
      context: { project: subject },
    });
  }
  return builds;
}
