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
import { buildrootDist } from '../../runner/buildroot/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRecord } from '../../shared/messages/index.ts';
import { loadDist } from '../../shared/sources/index.ts';
import { dnfInstallWithProvidesShim } from './package-clients.ts';

/** Where apt-get runs: a container of the dist `bookworm` of the sources repo, with our repository added. */
interface AptContainerOptions {
  socketPath: string;
  sourcesDir: string;
  workDir: string;
  aptUrl: string;
  logger: Logger;
}

/** The image, the `podman run` arguments and the shell line that adds our repository. */
async function aptSetup(options: AptContainerOptions): Promise<{ args: string[]; addRepo: string }> {
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
  return {
    args: ['--network', 'host', '-v', `${key}:/etc/apt/keyrings/buildfleet.asc:ro`, image],
    addRepo: `echo '${line}' > /etc/apt/sources.list.d/bf.list && apt-get update -qq`,
  };
}

const podman = (args: string[]) =>
  runCommand('podman', args, { env: { CONTAINERS_CONF: PODMAN_CONTAINERS_CONF }, timeoutMs: 300_000 });

/**
 * `apt-get install <pkg>` from the apt repository at aptUrl in a fresh container of the dist
 * `bookworm` of the sources repo, then runs `command` there; returns its standard output.
 */
export async function aptInstallInContainer(
  options: AptContainerOptions & { pkg: string; command: string },
): Promise<string> {
  const { args, addRepo } = await aptSetup(options);
  const install = await podman([
    'run',
    '--rm',
    ...args,
    'sh',
    '-c',
    `${addRepo} && apt-get install -y -qq ${options.pkg} >/dev/null && ${options.command}`,
  ]);
  return install.stdout;
}

/**
 * A container that stays (for upgrades): `pkg` installed from our repository; `run` runs a shell
 * line in it; `remove` ends it.
 */
export async function startAptContainer(
  options: AptContainerOptions & { pkg: string },
): Promise<{ run(line: string): Promise<string>; remove(): Promise<void> }> {
  const { args, addRepo } = await aptSetup(options);
  const id = (await podman(['run', '-d', ...args, 'sleep', 'infinity'])).stdout.trim();
  const run = async (line: string): Promise<string> => (await podman(['exec', id, 'sh', '-c', line])).stdout;
  await run(`${addRepo} && apt-get install -y -qq ${options.pkg} >/dev/null`);
  return {
    run,
    async remove() {
      await podman(['rm', '-f', '-t', '0', id]);
    },
  };
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
