import { Type, type TObject, type TProperties } from '@sinclair/typebox';
import { BusConfig, LogConfig, MetricsConfig, StorageConfig } from './fragments.ts';

/** Which of the optional common sections a service's config file has. */
export interface CommonSections<Storage extends boolean, Metrics extends boolean> {
  /** `storage:`, the artifact store. */
  storage: Storage;
  /** `metrics:`, the service's own /metrics and /healthz port. */
  metrics: Metrics;
}

type None = Record<never, never>;

/** The sections of a service config, in the order its file and its logged config list them. */
export type ServiceConfigProperties<Storage extends boolean, Metrics extends boolean, Own extends TProperties> = {
  bus: typeof BusConfig;
} & (Storage extends true ? { storage: typeof StorageConfig } : None) & {
    log: typeof LogConfig;
  } & (Metrics extends true ? { metrics: typeof MetricsConfig } : None) &
  Own;

/**
 * A service's config schema: `bus:`, `storage:` (if it has one), `log:`, `metrics:` (if it has
 * one), then its own section(s). The common sections are the shared fragments, defaults included.
 */
export function serviceConfig<Storage extends boolean, Metrics extends boolean, Own extends TProperties>(
  sections: CommonSections<Storage, Metrics>,
  own: Own,
): TObject<ServiceConfigProperties<Storage, Metrics, Own>> {
  const properties: TProperties = {
    bus: BusConfig,
    ...(sections.storage ? { storage: StorageConfig } : {}),
    log: LogConfig,
    ...(sections.metrics ? { metrics: MetricsConfig } : {}),
    ...own,
  };
  return Type.Object(properties as ServiceConfigProperties<Storage, Metrics, Own>);
}
