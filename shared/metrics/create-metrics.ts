import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricNames } from './names.ts';

/** The metrics of one service, on a registry of its own (never prom-client's global one). */
export interface Metrics {
  readonly registry: Registry;
  readonly queueDepth: Gauge<'runner_group' | 'arch'>;
  readonly consumerLag: Gauge<'group' | 'topic'>;
  readonly builds: Counter<'state'>;
  readonly dispatchLatency: Histogram<'runner_group'>;
  readonly buildDuration: Histogram<'kind' | 'outcome'>;
  readonly publishDuration: Histogram<'format'>;
  readonly leaseExpiries: Counter<'runner_group'>;
  readonly busMessages: Counter<'topic' | 'direction'>;
  readonly runnerSlots: Gauge<'state'>;
  readonly errors: Counter<'code'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly serviceInfo: Gauge<'service' | 'version'>;
}

export interface CreateMetricsOptions {
  /** Labels added to every metric, e.g. `{ service: 'runner', instance: 'runner-3' }`. @default none */
  defaultLabels?: Record<string, string>;
  /** Register prom-client's process metrics (CPU, memory, event loop lag, GC). @default true */
  processMetrics?: boolean;
}

// Builds take seconds to an hour; dispatch and HTTP take milliseconds to seconds.
const BUILD_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
const PUBLISH_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the registry and every buildfleet metric on it. Cheap: no timers, no I/O. */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    queueDepth: new Gauge({
      name: MetricNames.queueDepth,
      help: 'Build requests waiting for a runner, per runner group and arch',
      labelNames: ['runner_group', 'arch'] as const,
      registers,
    }),
    consumerLag: new Gauge({
      name: MetricNames.consumerLag,
      help: 'Messages not yet consumed by a consumer group, per topic',
      labelNames: ['group', 'topic'] as const,
      registers,
    }),
    builds: new Counter({
      name: MetricNames.builds,
      help: 'Build events by state',
      labelNames: ['state'] as const,
      registers,
    }),
    dispatchLatency: new Histogram({
      name: MetricNames.dispatchLatency,
      help: 'Seconds from publishing a build request to a runner claiming it',
      labelNames: ['runner_group'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    buildDuration: new Histogram({
      name: MetricNames.buildDuration,
      help: 'Seconds a build took on its runner, from checkout to upload',
      labelNames: ['kind', 'outcome'] as const,
      buckets: BUILD_BUCKETS,
      registers,
    }),
    publishDuration: new Histogram({
      name: MetricNames.publishDuration,
      help: 'Seconds to add artifacts to a repository and publish the new version',
      labelNames: ['format'] as const,
      buckets: PUBLISH_BUCKETS,
      registers,
    }),
    leaseExpiries: new Counter({
      name: MetricNames.leaseExpiries,
      help: 'Build leases that ran out before the build ended',
      labelNames: ['runner_group'] as const,
      registers,
    }),
    busMessages: new Counter({
      name: MetricNames.busMessages,
      help: 'Bus messages by topic and direction (published, consumed, deadlettered)',
      labelNames: ['topic', 'direction'] as const,
      registers,
    }),
    runnerSlots: new Gauge({
      name: MetricNames.runnerSlots,
      help: 'Build slots of this runner by state (busy, free)',
      labelNames: ['state'] as const,
      registers,
    }),
    errors: new Counter({
      name: MetricNames.errors,
      help: 'Errors by code',
      labelNames: ['code'] as const,
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: MetricNames.httpRequestDuration,
      help: 'HTTP request durations in seconds',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    serviceInfo: new Gauge({
      name: MetricNames.serviceInfo,
      help: 'Always 1; the labels say which service and version this process runs',
      labelNames: ['service', 'version'] as const,
      registers,
    }),
  };
}
