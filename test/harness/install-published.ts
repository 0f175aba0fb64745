/**
 * Installs published packages the way a user would, for the end-to-end tests: apt-get in a
 * fresh bookworm container (the dist's base image, host network to reach 127.0.0.1) with the
 * repository key given by signed-by, and dnf into an empty installroot with gpg checks.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PODMAN_CONTAINERS_CONF } from '../../infra/podman/service.ts';
import { chooseBuildroot } from '../../runner/buildroot/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { buildrootDist } from '../../runner/job/build-job.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRecord } from '../../shared/messages/index.ts';
import { loadDist } from '../../shared/sources/index.ts';
import { dnfInstallWithProvidesShim } from './package-clients.ts';

/**
 * `apt-get install <pkg>` from the apt repository at aptUrl in a fresh container of the dist
 * `bookworm` of the sources repo, then runs `command` there; returns its standard output.
 */
export async function aptInstallInContainer(options: {
  socketPath: string;
  sourcesDir: string;
  workDir: string;
  aptUrl: string;
  pkg: string;
  command: string;
  logger: Logger;
}): Promise<string> {
  const key = join(options.workDir, 'apt-key.asc');
  const answer = await fetch(`${options.aptUrl}/key.asc`);
  if (!answer.ok) throw new Error(`GET ${options.aptUrl}/key.asc: ${answer.status}`);
  await writeFile(key, await answer.text());
  const buildroot = await chooseBuildroot({
    preferred: 'container',
    engine: createDockerodeEngine({ socketPath: options.socketPath }),
    cacheDir: join(options.workDir, 'buildroots'),
    logger: options.logger,
  });
  const dist = await loadDist({ repoDir: options.sourcesDir, name: 'bookworm' });
  const image = (await buildroot.prepare({ dist: buildrootDist(dist) })).environment;
  const line = `deb [signed-by=/etc/apt/keyrings/buildfleet.asc] ${options.aptUrl} bookworm main`;
  const install = await runCommand(
    'podman',
    [
      'run',
      '--rm',
      '--network',
      'host',
      '-v',
      `${key}:/etc/apt/keyrings/buildfleet.asc:ro`,
      image,
      'sh',
      '-c',
      `echo '${line}' > /etc/apt/sources.list.d/bf.list && apt-get update -qq` +
        ` && apt-get install -y -qq ${options.pkg} >/dev/null && ${options.command}`,
    ],
    { env: { CONTAINERS_CONF: PODMAN_CONTAINERS_CONF }, timeoutMs: 300_000 },
  );
  return install.stdout;
}

/**
 * `dnf install <name>` with gpgcheck and repo_gpgcheck from the rpm-md repository of a
 * published build (its rpm comes from the API, for the shim that provides its requirements);
 * returns the installroot.
 */
export async function dnfInstallPublished(options: {
  apiUrl: string;
  record: BuildRecord;
  name: string;
  workDir: string;
}): Promise<string> {
  const rpmUrl = options.record.repo?.url;
  if (!rpmUrl) throw new Error(`build ${options.record.buildId} has no repository`);
  const artifact = options.record.artifacts.find((a) => a.kind === 'rpm');
  if (!artifact) throw new Error(`build ${options.record.buildId} has no rpm artifact`);
  const rpmFile = join(options.workDir, artifact.name);
  const answer = await fetch(`${options.apiUrl}/api/builds/${options.record.buildId}/artifacts/${artifact.name}`);
  if (!answer.ok) throw new Error(`download of ${artifact.name}: ${answer.status}`);
  await writeFile(rpmFile, Buffer.from(await answer.arrayBuffer()));
  const dnf = await dnfInstallWithProvidesShim({
    workDir: options.workDir,
    baseUrl: rpmUrl,
    keyUrl: `${rpmUrl}/key.asc`,
    name: options.name,
    rpmFile,
  });
  if (dnf.exitCode !== 0) throw new Error(`dnf install ${options.name} failed:\n${dnf.output}`);
  return dnf.root;
}
