/**
 * The scheduler with its change detection, assembled from settings: used by
 * `buildfleet scheduler` (./main.ts) and by the all-in-one `buildfleet up`.
 */
import { join, resolve } from 'node:path';
import type { Bus } from '../shared/bus/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Metrics } from '../shared/metrics/index.ts';
import { topicNames } from '../shared/messages/index.ts';
import { createSourceMirror } from '../shared/sources/index.ts';
import { branchCursor } from './changes/cursors.ts';
import { createGitWebhookHandler, type GitWebhookHandler } from './changes/webhook.ts';
import { createSourceWatcher, type SourceWatcher } from './changes/watcher.ts';
import type { SchedulerSettings } from './config.ts';
import { createSubmitResolver, clearCheckouts } from './resolve.ts';
import { createScheduler, type Scheduler } from './scheduler.ts';
import { createStateStore } from './state/state-store.ts';
import { BuildfleetError } from '../shared/errors/index.ts';

export interface SchedulerService {
  scheduler: Scheduler;
  watcher: SourceWatcher | undefined;
  /** The push webhook handler, when a secret is configured. */
  webhook: GitWebhookHandler | undefined;
  stop(): Promise<void>;
}

export async function startSchedulerService(options: {
  settings: SchedulerSettings;
  instanceId: string;
  bus: Bus;
  logger: Logger;
  metrics?: Metrics;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}): Promise<SchedulerService> {
  const { settings, bus, logger } = options;
  const workDir = resolve(settings.workDir);
  const url = settings.sources.url;
  const sources = createSourceMirror({ cacheDir: join(workDir, 'git'), logger });
  await clearCheckouts(workDir);
  const state = createStateStore({ bus, topic: topicNames(bus.topicPrefix).state, logger });
  const scheduler = createScheduler({
    instanceId: options.instanceId,
    bus,
    state,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    leaseMs: settings.leaseMs,
    maxAttempts: settings.maxAttempts,
    checkIntervalMs: settings.checkIntervalMs,
    resolver: url
      ? createSubmitResolver({ sources, url, defaultRef: settings.sources.branch, workDir })
      : {
          resolve: () => Promise.reject(noSources()),
          cascade: () => Promise.reject(noSources()),
        },
  });
  await scheduler.start(options.signal);

  let watcher: SourceWatcher | undefined;
  if (url && settings.sources.pollIntervalMs > 0) {
    const submitTopic = topicNames(bus.topicPrefix).submit;
    watcher = createSourceWatcher({
      sources,
      url,
      branch: settings.sources.branch,
      intervalMs: settings.sources.pollIntervalMs,
      workDir: join(workDir, 'watch'),
      cursors: state.cursors,
      submit: (submits, signal) =>
        bus.publish(
          submitTopic,
          submits.map((s) => ({ key: s.project, value: s })),
          signal,
        ),
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    watcher.start();
    logger.info(
      { url, branch: settings.sources.branch, last: state.cursors.get(branchCursor(settings.sources.branch)) },
      'scheduler: watching the sources branch',
    );
  }
  const secret = options.env[settings.sources.webhookSecretEnv];
  const webhook =
    secret && watcher
      ? createGitWebhookHandler({ secret, branch: settings.sources.branch, onPush: () => watcher.poke(), logger })
      : undefined;
  return {
    scheduler,
    watcher,
    webhook,
    async stop() {
      await watcher?.stop();
      await scheduler.stop();
    },
  };
}

function noSources(): BuildfleetError {
  return new BuildfleetError('config-invalid', 'the scheduler has no sources repository (scheduler.sources.url)');
}
