/** The config files of buildfleet service processes the tests and benches start. */

/** `bus:` of a service config on the test's Kafka. */
export function kafkaBusYaml(brokers: readonly string[], prefix: string): string {
  return `bus: { type: kafka, brokers: [${brokers.map((b) => `'${b}'`).join(', ')}], topicPrefix: ${prefix} }`;
}

/** Config of a `buildfleet runner` process: host buildroot, filesystem store, log level info. */
export function runnerConfigYaml(options: {
  brokers: readonly string[];
  prefix: string;
  id: string;
  dir: string;
  storeRoot: string;
  slots: number;
  heartbeatMs?: number;
  /** Serve /metrics on a free port. @default false */
  metrics?: boolean;
}): string {
  return [
    kafkaBusYaml(options.brokers, options.prefix),
    `storage: { type: fs, root: '${options.storeRoot}' }`,
    'log: { level: info }',
    options.metrics ? 'metrics: { enabled: true, port: 0 }' : 'metrics: { enabled: false }',
    'runner:',
    `  id: ${options.id}`,
    `  slots: ${options.slots}`,
    `  heartbeatMs: ${options.heartbeatMs ?? 20_000}`,
    `  workDir: '${options.dir}/work'`,
    `  cacheDir: '${options.dir}/cache'`,
    '  buildroot: host',
    '  graceMs: 5000',
    '',
  ].join('\n');
}

/** Config of a `buildfleet scheduler` process on a sources repo, change detection off. */
export function schedulerConfigYaml(options: {
  brokers: readonly string[];
  prefix: string;
  dir: string;
  sourcesUrl: string;
  logLevel?: string;
}): string {
  return [
    kafkaBusYaml(options.brokers, options.prefix),
    `log: { level: ${options.logLevel ?? 'info'} }`,
    'metrics: { enabled: false }',
    'scheduler:',
    '  id: bench-scheduler',
    '  leaseMs: 60000',
    '  checkIntervalMs: 1000',
    `  workDir: '${options.dir}'`,
    `  sources: { url: '${options.sourcesUrl}', branch: main, pollIntervalMs: 0 }`,
    '',
  ].join('\n');
}
