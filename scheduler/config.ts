import { Type, type Static } from '@sinclair/typebox';
import { serviceConfig } from '../shared/config/index.ts';

/** The scheduler's own settings (`scheduler:` in its config file, `BUILDFLEET_SCHEDULER_*`). */
export const SchedulerSettings = Type.Object({
  /** @default '<hostname>-<pid>' */
  id: Type.Optional(Type.String({ minLength: 1 })),
  /** Lease given to runners; they renew it with heartbeats. */
  leaseMs: Type.Integer({ minimum: 1000, default: 60_000 }),
  /** Dispatches of one build (the first and the re-dispatches after a lease ran out) before it fails. */
  maxAttempts: Type.Integer({ minimum: 1, default: 3 }),
  /** How often leases and waiting builds are checked. */
  checkIntervalMs: Type.Integer({ minimum: 50, default: 1000 }),
  /** Checkouts of commits (to read buildfleet.yml and dists) and the git mirror. */
  workDir: Type.String({ minLength: 1, default: 'var/scheduler' }),
  sources: Type.Object(
    {
      /** The sources repository (git URL or absolute path). Submissions are resolved against it. */
      url: Type.Optional(Type.String({ minLength: 1 })),
      /** The branch whose new commits are built (change detection) and the default ref of a submission. */
      branch: Type.String({ minLength: 1, default: 'main' }),
      /** Poll the branch this often; 0 turns polling and change detection off. */
      pollIntervalMs: Type.Integer({ minimum: 0, default: 30_000 }),
      /** Name of the environment variable holding the push webhook's secret; no secret, no webhook. */
      webhookSecretEnv: Type.String({ minLength: 1, default: 'BUILDFLEET_WEBHOOK_SECRET' }),
    },
    { default: {} },
  ),
  /**
   * Where the push webhook (POST /hooks/git) is served when its secret is set: a listener of its
   * own, reachable by the git server, apart from the metrics port (which stays internal).
   */
  webhook: Type.Object(
    {
      /** Address to listen on; the git server must reach it (e.g. `0.0.0.0`, or behind a proxy). */
      host: Type.String({ minLength: 1, default: '127.0.0.1' }),
      /** 0 picks a free port (tests). */
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }),
    },
    { default: {} },
  ),
});
export type SchedulerSettings = Static<typeof SchedulerSettings>;

/** Its `metrics:` port serves /metrics and /healthz; `scheduler.webhook` the push webhook POST /hooks/git. */
export const SchedulerConfig = serviceConfig({ storage: false, metrics: true }, { scheduler: SchedulerSettings });
export type SchedulerConfig = Static<typeof SchedulerConfig>;
