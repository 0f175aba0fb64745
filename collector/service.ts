/**
 * The collector assembled from its settings and the adapters it is given: used by
 * `buildfleet collector` (./main.ts), the all-in-one `buildfleet up` and the test harness.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { instanceIdOf, stopInOrder, type RunningService, type ServiceDeps } from '../shared/lifecycle/index.ts';
import type { ArtifactStore } from '../shared/storage/index.ts';
import { createCollector, type Collector } from './collector.ts';
import type { CollectorSettings } from './config.ts';
import { createSigner, loadSigningKey, type Signer } from './signing/index.ts';

export interface CollectorServiceDeps extends ServiceDeps {
  store: ArtifactStore;
  /** Where the signing key and its passphrase are read (the variables collector.signing names). */
  env: NodeJS.ProcessEnv;
}

/** stop(): stops the collector (publishes in progress finish), then removes the signer's keyring. */
export interface CollectorService extends RunningService {
  readonly collector: Collector;
  /** The repositories' signing key (its public half is what clients and buildroots trust). */
  readonly signer: Signer;
}

/** Loads the signing key, creates the collector and starts it; resolves when it takes successes. */
export async function startCollectorService(
  settings: CollectorSettings,
  deps: CollectorServiceDeps,
): Promise<CollectorService> {
  const { env, signal } = deps;
  const workDir = resolve(settings.workDir);
  await mkdir(workDir, { recursive: true });
  const passphrase = env[settings.signing.passphraseEnv];
  const signer = await createSigner({
    armoredPrivateKey: await loadSigningKey({
      ...(settings.signing.keyFile ? { keyFile: settings.signing.keyFile } : {}),
      keyEnv: settings.signing.keyEnv,
      env,
    }),
    ...(passphrase ? { passphrase } : {}),
    workDir,
    ...(signal ? { signal } : {}),
  });
  const collector = createCollector({
    instanceId: instanceIdOf(settings.id),
    bus: deps.bus,
    store: deps.store,
    signer,
    logger: deps.logger,
    publicUrl: settings.publicUrl,
    workDir: `${workDir}/versions`,
    keepVersions: settings.keepVersions,
    coalesceMs: settings.coalesceMs,
    retryMs: settings.retryMs,
  });
  const stop = stopInOrder(
    () => collector.stop(),
    () => signer.close(),
  );
  try {
    await collector.start();
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { collector, signer, stop };
}
