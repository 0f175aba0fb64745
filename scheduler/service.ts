/**
 * The scheduler with its change detection, assembled from its settings and the adapters it is
 * given: used by `buildfleet scheduler` (./main.ts), the all-in-one `buildfleet up` and the test
 * harness.
 */
import { join, resolve } from 'node:path';
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
import { instanceIdOf, stopInOrder, type RunningService, type ServiceDeps } from '../shared/lifecycle/index.ts';

/** Where the push webhook is served (POST), by the scheduler's own port or the all-in-one's. */
export { WEBHOOK_PATH } from './changes/webhook.ts';

/** stop(): stops the watcher, then the scheduler. */
export interface SchedulerService extends RunningService {
  scheduler: Scheduler;
  watcher: SourceWatcher | undefined;
  /** The push webhook handler, when a secret is configured. */
  webhook: GitWebhookHandler | undefined;
}

export interface SchedulerServiceDeps extends ServiceDeps {
  /** Where the webhook secret is read (the variable scheduler.sources.webhookSecretEnv names). */
  env: NodeJS.ProcessEnv;
}

/** Creates the scheduler and starts it (state read back), then the watcher; resolves when it runs. */
export async function startSchedulerService(
  settings: SchedulerSettings,
  deps: SchedulerServiceDeps,
): Promise<SchedulerService> {
  const { bus, logger } = deps;
  const workDir = resolve(settings.workDir);
  const url = settings.sources.url;
  const sources = createSourceMirror({ cacheDir: join(workDir, 'git'), logger });
  await clearCheckouts(workDir);
  const state = createStateStore({ bus, topic: topicNames(bus.topicPrefix).state, logger });
  const scheduler = createScheduler({
    instanceId: instanceIdOf(settings.id),
    bus,
    state,
    logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
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
  await scheduler.start(deps.signal);

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
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    watcher.start();
    logger.info(
      { url, branch: settings.sources.branch, last: state.cursors.get(branchCursor(settings.sources.branch)) },
      'scheduler: watching the sources branch',
    );
  }
  const secret = deps.env[settings.sources.webhookSecretEnv];
  const webhook =
    secret && watcher
      ? createGitWebhookHandler({ secret, branch: settings.sources.branch, onPush: () => watcher.poke(), logger })
      : undefined;
  return {
    scheduler,
    watcher,
    webhook,
    stop: stopInOrder(
      () => watcher?.stop(),
      () => scheduler.stop(),
    ),
  };
}

function noSources(): BuildfleetError {
  return new BuildfleetError('config-invalid', 'the scheduler has no sources repository (scheduler.sources.url)');
}
