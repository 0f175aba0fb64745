/**
 * Every metric name buildfleet exports, in one place so dashboards and alerts have one
 * list to read. Label names are listed with each metric in create-metrics.ts.
 */
export const MetricNames = {
  /** Gauge {runner_group, arch}: build requests waiting for a runner. */
  queueDepth: 'buildfleet_queue_depth',
  /** Gauge {group, topic}: messages a Kafka consumer group has not yet consumed. */
  consumerLag: 'buildfleet_consumer_lag',
  /** Counter {state}: build events by state (`queued`, `succeeded`, `failed`...). */
  builds: 'buildfleet_builds_total',
  /** Histogram {runner_group}: seconds from a request's publication to its claim by a runner. */
  dispatchLatency: 'buildfleet_dispatch_latency_seconds',
  /** Histogram {kind, outcome}: seconds a build took on the runner (checkout to upload). */
  buildDuration: 'buildfleet_build_duration_seconds',
  /** Histogram {format}: seconds to add artifacts to a repository and switch it live. */
  publishDuration: 'buildfleet_publish_duration_seconds',
  /** Counter {runner_group}: leases that ran out (runner died or lost its connection). */
  leaseExpiries: 'buildfleet_lease_expiries_total',
  /** Counter {topic, direction}: bus messages published, consumed or dead-lettered. */
  busMessages: 'buildfleet_bus_messages_total',
  /** Gauge {state}: build slots of this runner that are busy or free. */
  runnerSlots: 'buildfleet_runner_slots',
  /** Counter {code}: errors by BuildfleetError code. */
  errors: 'buildfleet_errors_total',
  /** Histogram {method, route, status}: HTTP API request durations. */
  httpRequestDuration: 'buildfleet_http_request_duration_seconds',
  /** Gauge {service, version} fixed at 1: which service and version this process runs. */
  serviceInfo: 'buildfleet_service_info',
} as const;

export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

/** Values of the `direction` label of buildfleet_bus_messages_total. */
export const BusDirections = ['published', 'consumed', 'deadlettered'] as const;
export type BusDirection = (typeof BusDirections)[number];

/** Values of the `state` label of buildfleet_runner_slots. */
export const SlotStates = ['busy', 'free'] as const;
export type SlotState = (typeof SlotStates)[number];
