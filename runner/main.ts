import { runService } from '../shared/lifecycle/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { RunnerConfig } from './config.ts';
import { startRunnerService } from './service.ts';

/** `buildfleet runner --config <file>`: config -> logger, metrics, bus, store -> runner service -> lifecycle. */
export function runRunnerService(options: { configFile?: string }): Promise<number> {
  return runService(
    {
      name: 'runner',
      schema: RunnerConfig,
      ...options,
      // Its log lines name the runner as runnerId, as build events and leases do.
      bindings: (runnerId: string) => ({ runnerId }),
      deadlines: (config: RunnerConfig) => ({
        graceMs: config.runner.graceMs,
        forceMs: config.runner.graceMs + 15_000,
      }),
      configuredId: (config) => config.runner.id,
    },
    async (context) => {
      const { config, instanceId: runnerId, logger, lifecycle, signal } = context;
      const metrics = createMetrics({ defaultLabels: { service: 'runner' } });
      if (config.metrics.enabled) {
        const server = await startMetricsServer({
          registry: metrics.registry,
          port: config.metrics.port,
          host: config.metrics.host,
        });
        lifecycle.onShutdown('metrics server', () => server.close());
        logger.info({ url: server.url }, 'runner: metrics served');
      }
      const bus = context.openBus(config.bus);
      const store = await context.openStore(config.storage);
      const service = await startRunnerService(
        { ...config.runner, id: runnerId },
        { bus, store, logger, metrics, env: process.env, signal },
      );
      lifecycle.onShutdown('runner', () => service.stop(), { phase: 'drain' });
      logger.info(
        { group: config.runner.group, arches: config.runner.arches, slots: config.runner.slots },
        'runner: ready',
      );
    },
  );
}
