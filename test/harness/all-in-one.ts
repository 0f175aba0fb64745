/**
 * "The all-in-one" for end-to-end tests: `buildfleet up`'s assembly (cli/up/all-in-one.ts) in
 * the test's process, on the run's Kafka and Podman, with container buildroots; and the check
 * that the example `hello-deb` and `hello-rpm` install from what it published, with apt-get in a
 * bookworm container and dnf with signatures checked. Tests that run `buildfleet up` as a
 * process (test/e2e/up.test.ts) use the check only.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startAllInOne, type AllInOne } from '../../cli/up/all-in-one.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { BuildRecord } from '../../shared/messages/index.ts';
import { aptInstallInContainer, dnfInstallPublished } from './install-published.ts';

export interface TestAllInOneOptions {
  /** Its data directory is `<work>/data`. */
  work: string;
  /** The sources repository: a path or a git URL. */
  sources: string;
  brokers: string[];
  podmanSocket: string;
  /** Start of the topic prefix; a random suffix keeps runs apart on the shared broker. */
  prefix: string;
  logger: Logger;
}

/** The all-in-one on real Kafka: container buildroots, 2 slots, the sources polled every second. */
export function startTestAllInOne(options: TestAllInOneOptions): Promise<AllInOne> {
  return startAllInOne({
    dataDir: join(options.work, 'data'),
    sources: options.sources,
    port: 0,
    brokers: options.brokers,
    topicPrefix: `${options.prefix}${randomUUID().slice(0, 8)}`,
    buildroot: 'container',
    engineSocket: options.podmanSocket,
    pollIntervalMs: 1000,
    slots: 2,
    logger: options.logger,
  });
}

/** apt-get installs the published hello-deb and dnf the published hello-rpm, and both run. */
export async function assertHelloExamplesInstall(options: {
  podmanSocket: string;
  /** The sources checkout the dist files are read from. */
  sourcesDir: string;
  work: string;
  deb: BuildRecord;
  rpm: BuildRecord;
  /** The info service the rpm repository's URL is asked of. */
  apiUrl: string;
  logger: Logger;
}): Promise<void> {
  // apt-get in a fresh bookworm container, with the published key only (signed-by).
  const aptUrl = options.deb.repo?.url;
  assert.ok(aptUrl, 'the deb build names its repository');
  const installed = await aptInstallInContainer({
    socketPath: options.podmanSocket,
    sourcesDir: options.sourcesDir,
    workDir: options.work,
    aptUrl,
    pkg: 'hello-deb',
    command: 'hello-deb --version',
    logger: options.logger,
  });
  assert.match(installed, /hello-deb 1\.0/);
  // dnf with gpgcheck and repo_gpgcheck from the published rpm-md repository.
  const root = await dnfInstallPublished({
    apiUrl: options.apiUrl,
    record: options.rpm,
    name: 'hello-rpm',
    workDir: options.work,
  });
  assert.match((await runCommand(join(root, 'usr/bin/hello-rpm'), ['--version'])).stdout, /hello-rpm 1\.0/);
}
