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
});
export type SchedulerSettings = Static<typeof SchedulerSettings>;

/** Its `metrics:` port serves /metrics, /healthz and the push webhook POST /hooks/git. */
export const SchedulerConfig = serviceConfig({ storage: false, metrics: true }, { scheduler: SchedulerSettings });
export type SchedulerConfig = Static<typeof SchedulerConfig>;
