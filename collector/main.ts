import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createBus } from '../shared/bus/index.ts';
import { loadConfigWithSources, redactConfig } from '../shared/config/index.ts';
import { createLifecycle } from '../shared/lifecycle/index.ts';
import { createLogger } from '../shared/log/index.ts';
import { createMetrics, startMetricsServer } from '../shared/metrics/index.ts';
import { storeFromConfig } from '../shared/storage/from-config.ts';
import { createCollector } from './collector.ts';
import { CollectorConfig } from './config.ts';
import { createSigner, loadSigningKey } from './signing/index.ts';

/** `buildfleet collector --config <file>`: wires config -> adapters -> collector -> signals, and runs. */
export async function runCollectorService(options: { configFile?: string }): Promise<number> {
  const loaded = loadConfigWithSources(CollectorConfig, options.configFile ? { file: options.configFile } : {});
  const config = loaded.config;
  const instanceId = config.collector.id ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ name: 'collector', level: config.log.level, bindings: { instance: instanceId } });
  logger.info({ config: redactConfig(config), ignoredEnv: loaded.ignoredEnv }, 'collector: starting');
  const lifecycle = createLifecycle({ logger, graceMs: 30_000 });
  lifecycle.installSignalHandlers(process);

  return lifecycle.run(async (signal) => {
    const workDir = resolve(config.collector.workDir);
    await mkdir(workDir, { recursive: true });
    if (config.metrics.enabled) {
      const metrics = createMetrics({ defaultLabels: { service: 'collector' } });
      const server = await startMetricsServer({
        registry: metrics.registry,
        port: config.metrics.port,
        host: config.metrics.host,
      });
      lifecycle.onShutdown('metrics server', () => server.close());
    }
    const signing = config.collector.signing;
    const passphrase = process.env[signing.passphraseEnv];
    const signer = await createSigner({
      armoredPrivateKey: await loadSigningKey({
        ...(signing.keyFile ? { keyFile: signing.keyFile } : {}),
        keyEnv: signing.keyEnv,
        env: process.env,
      }),
      ...(passphrase ? { passphrase } : {}),
      workDir,
      signal,
    });
    lifecycle.onShutdown('signer', () => signer.close());
    const bus = createBus({ ...config.bus, clientId: `collector-${instanceId}` }, logger);
    lifecycle.onShutdown('bus', () => bus.close());
    const store = await storeFromConfig(config.storage);
    lifecycle.onShutdown('store', () => store.close());
    const collector = createCollector({
      instanceId,
      bus,
      store,
      signer,
      logger,
      publicUrl: config.collector.publicUrl,
      workDir: `${workDir}/versions`,
      keepVersions: config.collector.keepVersions,
      coalesceMs: config.collector.coalesceMs,
    });
    lifecycle.onShutdown('collector', () => collector.stop(), { phase: 'drain' });
    await collector.start();
    logger.info('collector: ready');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
}
