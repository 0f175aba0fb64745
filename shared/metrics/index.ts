export { MetricNames, BusDirections, SlotStates, type MetricName, type BusDirection, type SlotState } from './names.ts';
export { createMetrics, type Metrics, type CreateMetricsOptions } from './create-metrics.ts';
export {
  startMetricsServer,
  metricsHandler,
  type MetricsServer,
  type MetricsServerOptions,
  type RequestHandler,
} from './metrics-server.ts';
