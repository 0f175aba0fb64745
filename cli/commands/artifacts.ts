/** `buildfleet artifacts <buildId> [--out <dir>]`: lists a build's artifacts; --out downloads and checks them. */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { BuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import type { Artifact, ErrorInfo } from '../../shared/messages/index.ts';
import type { ClusterClient } from '../client/port.ts';
import { formatArtifactLine } from '../format/records.ts';
import {
  interruptSignal,
  printJson,
  withClient,
  withConnectionOptions,
  type ClientCommandOptions,
} from './client-options.ts';

interface ArtifactsOptions extends ClientCommandOptions {
  out?: string;
}

/** An artifact as `artifacts --json` prints it: with --out, where it went and whether its sha256 matched. */
type ArtifactResult = Artifact & { path?: string; verified?: boolean; skipped?: string; error?: ErrorInfo };

export function registerArtifacts(program: Command): void {
  withConnectionOptions(
    program
      .command('artifacts <buildId>')
      .description('list the artifacts of a build; with --out download every one and check its sha256')
      .option('--out <dir>', 'download the artifacts into this directory')
      .option('--json', 'print the artifacts (with path and verified when downloaded) as a JSON array'),
  ).action(async (buildId: string, options: ArtifactsOptions) => {
    const interrupt = interruptSignal();
    try {
      const results = await withClient(options, async (client) => {
        const artifacts = await client.artifacts(buildId, interrupt.signal);
        if (options.out === undefined) return artifacts;
        return downloadAll(client, buildId, artifacts, resolve(options.out), interrupt.signal, !options.json);
      });
      if (options.json) printJson(results);
      else if (options.out === undefined) {
        if (results.length === 0) process.stdout.write(`build ${buildId} has no artifacts\n`);
        for (const artifact of results) process.stdout.write(`${formatArtifactLine(artifact)}\n`);
      }
      const failed = results.filter((r: ArtifactResult) => r.error !== undefined);
      if (failed.length > 0) {
        throw new BuildfleetError(
          failed.some((r: ArtifactResult) => r.error?.code === 'checksum-mismatch')
            ? 'checksum-mismatch'
            : 'artifact-missing',
          `${failed.length} of ${results.length} artifact(s) not downloaded intact: ${failed.map((r) => r.name).join(', ')}`,
        );
      }
    } finally {
      interrupt.dispose();
    }
  });
}

async function downloadAll(
  client: ClusterClient,
  buildId: string,
  artifacts: Artifact[],
  outDir: string,
  signal: AbortSignal,
  print: boolean,
): Promise<ArtifactResult[]> {
  const results: ArtifactResult[] = [];
  for (const artifact of artifacts) {
    const say = (text: string): void => void (print && process.stdout.write(`${text}\n`));
    if (artifact.kind === 'docker-image') {
      // Its name is an image reference in a registry: nothing to download from the store.
      results.push({ ...artifact, skipped: 'a docker image lives in its registry' });
      say(`${artifact.name}  skipped (docker image in its registry, digest sha256:${artifact.sha256})`);
      continue;
    }
    if (!isPlainFileName(artifact.name)) {
      results.push({ ...artifact, error: { code: 'artifact-missing', message: 'not a plain file name' } });
      say(`${artifact.name}  NOT downloaded: not a plain file name`);
      continue;
    }
    const path = join(outDir, artifact.name);
    try {
      const written = await client.download(buildId, artifact.name, path, signal);
      const verified = written.sha256 === artifact.sha256 && written.size === artifact.size;
      if (verified) {
        results.push({ ...artifact, path, verified });
        say(`${path}  ${written.size} bytes  sha256 ok`);
      } else {
        const message = `sha256 ${written.sha256} (${written.size} bytes) instead of ${artifact.sha256} (${artifact.size} bytes)`;
        results.push({ ...artifact, path, verified, error: { code: 'checksum-mismatch', message } });
        say(`${path}  BAD: ${message}`);
      }
    } catch (failure) {
      if (signal.aborted) throw failure;
      const error = toBuildfleetError(failure, 'artifact-missing');
      results.push({ ...artifact, error: { code: error.code, message: error.message } });
      say(`${artifact.name}  NOT downloaded: [${error.code}] ${error.message}`);
    }
  }
  return results;
}

/** A name that stays inside the output directory. */
function isPlainFileName(name: string): boolean {
  return (
    name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\') && !name.includes('\0')
  );
}
