/**
 * The settings of the services of `buildfleet up`, parsed through each service's own config
 * schema: the schema gives every default; `up` sets only what its options, its data directory and
 * its one-process nature decide (the "built-in defaults of the command" layer of
 * docs/configuration.md). No environment variable is read here.
 */
import { join } from 'node:path';
import { CollectorSettings } from '../../collector/config.ts';
import { InfoSettings } from '../../info-service/config.ts';
import { RunnerSettings } from '../../runner/config.ts';
import { SchedulerSettings } from '../../scheduler/config.ts';
import { loadConfig } from '../../shared/config/index.ts';

export interface UpSettingsInput {
  dataDir: string;
  host: string;
  port: number;
  sourcesUrl: string;
  branch?: string;
  pollIntervalMs?: number;
  leaseMs?: number;
  slots?: number;
  arches?: string[];
  buildroot?: RunnerSettings['buildroot'];
  /** The engine the runner uses, when one answers. */
  engineSocket?: string;
  /** The signing key file, when the key does not come from the environment. */
  signingKeyFile?: string;
  /** The API's identities: up's tokens file and what anonymous requests may do (all-in-one.ts decides). */
  auth: Pick<InfoSettings['auth'], 'anonymous' | 'tokensFile'>;
}

export interface UpSettings {
  info: InfoSettings;
  collector: CollectorSettings;
  runner: RunnerSettings;
  scheduler: SchedulerSettings;
}

/** Every service of the all-in-one is instance `up`; its files live under dataDir. */
const ID = 'up';

/**
 * What `up` chooses differently from the schemas, and why (docs/configuration.md): the branch is
 * polled every 5 s (`--poll-interval`) and a success is published after 200 ms, so a laptop user
 * sees a commit built and published soon; on Ctrl-C running builds get 10 s, not 30 s.
 */
const UP_POLL_INTERVAL_MS = 5000;
const UP_COALESCE_MS = 200;
const UP_RUNNER_GRACE_MS = 10_000;

export function upSettings(input: UpSettingsInput): UpSettings {
  const { dataDir } = input;
  const work = join(dataDir, 'work');
  const publicUrl = `http://${input.host}:${input.port}/repos`;
  const branch = input.branch === undefined ? {} : { branch: input.branch };
  return {
    info: loadConfig(InfoSettings, {
      env: {},
      defaults: {
        id: ID,
        http: { host: input.host, port: input.port },
        auth: input.auth,
        publicUrl,
        sources: { url: input.sourcesUrl, ...branch, workDir: join(work, 'info-service') },
      },
    }),
    collector: loadConfig(CollectorSettings, {
      env: {},
      defaults: {
        id: ID,
        publicUrl,
        coalesceMs: UP_COALESCE_MS,
        workDir: join(work, 'collector'),
        ...(input.signingKeyFile ? { signing: { keyFile: input.signingKeyFile } } : {}),
      },
    }),
    runner: loadConfig(RunnerSettings, {
      env: {},
      defaults: {
        id: ID,
        ...(input.arches ? { arches: input.arches } : {}),
        ...(input.slots === undefined ? {} : { slots: input.slots }),
        graceMs: UP_RUNNER_GRACE_MS,
        workDir: join(work, 'runner'),
        cacheDir: join(dataDir, 'cache'),
        ...(input.buildroot ? { buildroot: input.buildroot } : {}),
        ...(input.engineSocket ? { engineSocket: input.engineSocket } : {}),
        // The laptop's owner builds their own examples, KIWI too (the runner logs the warning).
        allowHostBuilds: true,
      },
    }),
    scheduler: loadConfig(SchedulerSettings, {
      env: {},
      defaults: {
        id: ID,
        ...(input.leaseMs === undefined ? {} : { leaseMs: input.leaseMs }),
        workDir: join(work, 'scheduler'),
        sources: { url: input.sourcesUrl, ...branch, pollIntervalMs: input.pollIntervalMs ?? UP_POLL_INTERVAL_MS },
      },
    }),
  };
}
