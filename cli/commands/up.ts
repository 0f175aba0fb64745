import type { Command } from 'commander';
import type { AllInOne } from '../up/all-in-one.ts';
import type { BuildfleetError } from '../../shared/errors/index.ts';
import { createLifecycle } from '../../shared/lifecycle/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { TerminalStates } from '../../shared/messages/index.ts';

interface UpOptions {
  sources?: string;
  data: string;
  port: string;
  brokers?: string;
  slots: string;
  buildroot: string;
  engineSocket?: string;
  pollInterval: string;
  exitWhenBuilt?: boolean;
  logLevel: string;
  insecureLocal?: boolean;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'run every service in one process: builds the sources repo (the examples by default), serves the API and repositories',
    )
    .option(
      '--sources <git url or dir>',
      'sources repository (default: a git repo made from examples/sources in --data)',
    )
    .option('--data <dir>', 'where the cluster keeps its data', 'var/up')
    .option('--port <port>', 'HTTP port of the API, events, dashboard and /repos (127.0.0.1)', '8080')
    .option('--brokers <list>', 'Kafka bootstrap brokers (comma separated); default: the embedded bus')
    .option('--slots <n>', 'build slots of the runner', '1')
    .option('--buildroot <kind>', 'auto | container | chroot | host', 'auto')
    .option(
      '--engine-socket <path>',
      'Docker API socket for container buildroots (default /run/podman/podman.sock, else a Podman service of its own in --data)',
    )
    .option('--poll-interval <ms>', 'how often the sources branch is polled', '5000')
    .option('--exit-when-built', 'exit after the first builds: 0 when all were published, 1 otherwise')
    .option('--log-level <level>', 'log level of the services (JSON lines on stderr)', 'warn')
    .option(
      '--insecure-local',
      'let anyone on this machine submit and cancel without a token (default: reading is open, submitting needs a token; the CLI has one)',
    )
    .action(async (options: UpOptions) => {
      const [{ startAllInOne }, { loadClientConfig }, { defaultCredentialsFile }, { accessLine }] = await Promise.all([
        import('../up/all-in-one.ts'),
        import('../client/connect.ts'),
        import('../client/credentials.ts'),
        import('../up/summary.ts'),
      ]);
      // the file the CLI reads its token from (BUILDFLEET_CREDENTIALS_FILE)
      const credentialsFile = loadClientConfig().credentialsFile ?? defaultCredentialsFile();
      const buildroot = options.buildroot;
      if (buildroot !== 'auto' && buildroot !== 'container' && buildroot !== 'chroot' && buildroot !== 'host') {
        throw new Error(`--buildroot must be auto, container, chroot or host (got ${buildroot})`);
      }
      const level = options.logLevel as 'warn';
      const logger = createLogger({ name: 'up', level, destination: process.stderr });
      // One lifecycle for every service: the first SIGTERM/SIGINT stops them in order, a second SIGINT forces.
      let builtCode = 0;
      let fatal: BuildfleetError | undefined;
      const lifecycle = createLifecycle({
        logger,
        graceMs: 30_000,
        onFatal: (error) => void (fatal ??= error),
        exit: (code) => {
          process.exitCode = code === 0 && options.exitWhenBuilt ? builtCode : code;
          // A forced or failed shutdown may leave handles open: end now, as a service alone does.
          if (code !== 0 && fatal === undefined) process.exit(code);
        },
      });
      lifecycle.installSignalHandlers(process);
      const out = (line: string): void => void process.stdout.write(`${line}\n`);

      await lifecycle.run(async (signal) => {
        const cluster = await startAllInOne({
          dataDir: options.data,
          ...(options.sources ? { sources: options.sources } : {}),
          port: Number(options.port),
          ...(options.brokers ? { brokers: options.brokers.split(',').map((b) => b.trim()) } : {}),
          slots: Number(options.slots),
          buildroot,
          ...(options.engineSocket ? { engineSocket: options.engineSocket } : {}),
          pollIntervalMs: Number(options.pollInterval),
          ...(options.insecureLocal ? { insecureLocal: true } : {}),
          credentialsFile,
          logger,
          lifecycle,
          signal,
        });
        out(
          `buildfleet up: serving ${cluster.url}  (dashboard /, API /api, live events /api/events, repositories /repos)`,
        );
        out(accessLine(cluster.anonymous, credentialsFile, cluster.tokensFile));
        out(`sources: ${cluster.sourcesUrl} (branch main: commit to it and what changed is rebuilt)`);
        out('building the packages of the sources repo...');
        const built = await firstBuildsDone(cluster, signal, out);
        if (built !== undefined) builtCode = built;
        if (!options.exitWhenBuilt && !signal.aborted) {
          out('serving; Ctrl-C stops.');
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        }
      });
      // After the services stopped: the CLI prints it as `buildfleet: [<code>] <message>` and exits 1.
      if (fatal) throw fatal;
    });
}

/** Waits until every build is in an end state for 2 s, prints them and the repositories; the exit code for --exit-when-built. */
async function firstBuildsDone(
  cluster: AllInOne,
  signal: AbortSignal,
  out: (line: string) => void,
): Promise<number | undefined> {
  const [{ buildLines, repositoryLines }, { listRepositories }] = await Promise.all([
    import('../up/summary.ts'),
    import('../../shared/repos/catalog.ts'),
  ]);
  const terminal = new Set<string>(TerminalStates);
  let lastChange = Date.now();
  let lastSeen = '';
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { builds } = cluster.info.view.list({ limit: 1000 });
    const seen = builds.map((b) => `${b.buildId}:${b.state}`).join(',');
    if (seen !== lastSeen) {
      lastSeen = seen;
      lastChange = Date.now();
      continue;
    }
    const done = builds.length > 0 && builds.every((b) => terminal.has(b.state));
    if (!done || Date.now() - lastChange < 2000) continue;
    out('built:');
    for (const line of buildLines(builds)) out(line);
    out('repositories (paste these lines as root on a client):');
    for (const line of repositoryLines(await listRepositories(cluster.store, `${cluster.url}/repos`))) out(line);
    return builds.every((b) => b.state === 'published') ? 0 : 1;
  }
  return undefined;
}
