import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authFor,
  DEFAULT_BASE_IMAGE_PULL,
  normalisedReference,
  pullDecision,
  pulledBaseTag,
  registryOf,
} from '../../runner/buildroot/base-pull-policy.ts';
import { chrootBootstrap } from '../../runner/buildroot/chroot-tree.ts';
import { createHostBuildroot } from '../../runner/buildroot/host.ts';
import { createLogger } from '../../shared/log/index.ts';
import { depsImageTag } from '../../runner/buildroot/cache-keys.ts';
import { planInstall } from '../../runner/buildroot/install-plan.ts';
import { describeBase, type BuildrootDist } from '../../runner/buildroot/types.ts';
import { pullRefusal } from '../../runner/engine/dockerode-pull.ts';
import { buildrootDist } from '../../runner/buildroot/index.ts';
import { RunnerConfig } from '../../runner/config.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import type { DistSpec } from '../../shared/sources/index.ts';

const TAG = 'registry.example.com:5000/base/debian:12';
const PINNED = `registry.example.com:5000/base/debian@sha256:${'a'.repeat(64)}`;
const HOUR = 3_600_000;

describe('base image pull decision', () => {
  const decide = (input: Partial<Parameters<typeof pullDecision>[0]>) =>
    pullDecision({
      reference: TAG,
      present: true,
      lastPulledAt: undefined,
      now: 10 * HOUR,
      policy: DEFAULT_BASE_IMAGE_PULL,
      ...input,
    });

  it('pulls what the engine does not have, whatever the policy', () => {
    for (const tags of ['missing', 'always', 'max-age'] as const) {
      assert.deepEqual(decide({ present: false, policy: { tags, maxAgeMs: HOUR } }), { pull: true, reason: 'missing' });
    }
    assert.deepEqual(decide({ reference: PINNED, present: false }), { pull: true, reason: 'missing' });
  });

  it('never pulls a present image pinned by digest again', () => {
    assert.deepEqual(decide({ reference: PINNED, policy: { tags: 'always', maxAgeMs: 0 } }), { pull: false });
  });

  it('pulls a present tag once per runner start, then once per max age (the default)', () => {
    assert.deepEqual(decide({ lastPulledAt: undefined }), { pull: true, reason: 'refresh' });
    assert.deepEqual(decide({ lastPulledAt: 10 * HOUR - HOUR + 1 }), { pull: false });
    assert.deepEqual(decide({ lastPulledAt: 9 * HOUR }), { pull: true, reason: 'refresh' });
  });

  it('honours missing and always for tags', () => {
    assert.deepEqual(decide({ policy: { tags: 'missing', maxAgeMs: HOUR } }), { pull: false });
    assert.deepEqual(decide({ lastPulledAt: 10 * HOUR, policy: { tags: 'always', maxAgeMs: HOUR } }), {
      pull: true,
      reason: 'refresh',
    });
  });
});

describe('base image references and credentials', () => {
  it('adds latest only where there is neither tag nor digest', () => {
    assert.equal(normalisedReference('127.0.0.1:5000/debian'), '127.0.0.1:5000/debian:latest');
    assert.equal(normalisedReference('debian'), 'debian:latest');
    assert.equal(normalisedReference(TAG), TAG);
    assert.equal(normalisedReference(PINNED), PINNED);
  });

  it('finds the registry of a reference and its credentials', () => {
    assert.equal(registryOf(TAG), 'registry.example.com:5000');
    assert.equal(registryOf('localhost/x:1'), 'localhost');
    assert.equal(registryOf('library/debian:12'), undefined, 'Docker Hub path');
    assert.equal(registryOf('debian:12'), undefined);
    const auth = { username: 'u', password: 'p', serverAddress: 'registry.example.com:5000' };
    assert.equal(authFor(TAG, [auth]), auth);
    assert.equal(authFor('other.example.com/x:1', [auth]), undefined);
  });

  it('tags pulled bases locally by image id', () => {
    assert.equal(pulledBaseTag(`sha256:${'b'.repeat(64)}`), `buildfleet/base-image:${'b'.repeat(64)}`);
  });
});

describe('engine pull failures', () => {
  it('tells registry refusals (not retriable) from everything else', () => {
    assert.equal(pullRefusal('reading manifest 1 in r/x: manifest unknown: manifest unknown'), 'not-found');
    assert.equal(pullRefusal('manifest for r/x:1 not found: manifest unknown'), 'not-found');
    assert.equal(pullRefusal('reading manifest 1 in r/x: unauthorized: authentication required'), 'denied');
    assert.equal(pullRefusal('pull access denied for x, repository does not exist'), 'not-found');
    assert.equal(
      pullRefusal('pinging container registry r: Get "http://r/v2/": dial tcp: connect: connection refused'),
      undefined,
    );
    assert.equal(pullRefusal('received unexpected HTTP status: 503 Service Unavailable'), undefined);
  });
});

describe('image dists', () => {
  const imageDist: BuildrootDist = { name: 'deb12', format: 'deb', base: { kind: 'image', image: TAG } };
  const plan = planInstall(imageDist, ['libpopt-dev']);

  it('key the dependency layer by the pulled image id: a re-pushed tag gives a new layer', () => {
    const first = depsImageTag(imageDist, `sha256:${'1'.repeat(64)}`, plan);
    assert.equal(depsImageTag(imageDist, `sha256:${'1'.repeat(64)}`, plan), first);
    assert.notEqual(depsImageTag(imageDist, `sha256:${'2'.repeat(64)}`, plan), first);
  });

  it('are described by their image, bootstrap dists by suite and mirror', () => {
    assert.equal(describeBase(imageDist.base), `image ${TAG}`);
    assert.equal(
      describeBase({ kind: 'bootstrap', suite: 'bookworm', mirror: 'http://deb.debian.org/debian' }),
      'bookworm (http://deb.debian.org/debian)',
    );
  });

  it('are not for the chroot kind: kind-unsupported naming the file and the field', () => {
    assert.throws(
      () => chrootBootstrap(imageDist),
      (error) =>
        isBuildfleetError(error, 'kind-unsupported') &&
        error.message.startsWith(`dists/deb12.yml: field "base.image": the chroot buildroot`) &&
        error.message.includes(TAG),
    );
  });

  it('are fine for the host kind, which ignores the base', async () => {
    const host = createHostBuildroot({ logger: createLogger({ name: 'base-image-test', level: 'silent' }) });
    const prepared = await host.prepare({ dist: imageDist });
    assert.equal(prepared.environment, 'host');
    await prepared.release();
  });

  it('reach the buildroot from the dist file', () => {
    const spec = {
      name: 'deb12',
      file: 'dists/deb12.yml',
      format: 'deb',
      base: { kind: 'image', image: TAG },
      runnerGroup: 'default',
      packages: ['fakeroot'],
      arches: undefined,
      repositories: [],
    } as unknown as DistSpec;
    assert.deepEqual(buildrootDist(spec).base, { kind: 'image', image: TAG });
  });
});

describe('runner.baseImagePull', () => {
  const storage = { BUILDFLEET_STORAGE: JSON.stringify({ type: 'fs', root: '/tmp/unused' }) };
  const load = (env: Record<string, string>) => loadConfig(RunnerConfig, { env: { ...storage, ...env } });

  it('defaults to max-age of an hour and takes the environment', () => {
    assert.deepEqual(load({}).runner.baseImagePull, { tags: 'max-age', maxAgeMinutes: 60 });
    assert.deepEqual(
      load({
        BUILDFLEET_RUNNER_BASE_IMAGE_PULL_TAGS: 'always',
        BUILDFLEET_RUNNER_BASE_IMAGE_PULL_MAX_AGE_MINUTES: '5',
      }).runner.baseImagePull,
      { tags: 'always', maxAgeMinutes: 5 },
    );
  });

  it('names the key of an unknown policy', () => {
    assert.throws(
      () => load({ BUILDFLEET_RUNNER_BASE_IMAGE_PULL_TAGS: 'sometimes' }),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') && error.message.includes('runner.baseImagePull.tags'),
    );
  });
});
