/** The docker builder's pure parts: references, build args, artifacts, registry settings, push progress. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BASE_IMAGE_ARG,
  builderFor,
  DOCKER_RECORD_FILE,
  dockerArtifactsOf,
  dockerRegistryFrom,
  planDockerBuild,
  registryHost,
  type DockerPushRecord,
} from '../../runner/builders/index.ts';
import { RunnerConfig } from '../../runner/config.ts';
import { createDockerodeEngine, pushedDigestIn } from '../../runner/engine/index.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const target = { dist: 'bookworm', arch: 'x86_64' };

function pkg(overrides: Partial<Parameters<typeof planDockerBuild>[0]['pkg']> = {}) {
  return {
    name: 'hello-docker',
    version: '1.0',
    docker: { buildArgs: { GREETING: 'hi' } },
    metadataFile: 'projects/images/hello-docker/buildfleet.yml',
    targets: [{ ...target, runnerGroup: 'default' }],
    ...overrides,
  };
}

const plan = (overrides: Partial<Parameters<typeof planDockerBuild>[0]> = {}) =>
  planDockerBuild({
    pkg: pkg(),
    target,
    commit: COMMIT,
    registry: 'registry.example.com:5000',
    baseImage: 'buildfleet/base-bookworm:abc',
    ...overrides,
  });

describe('planDockerBuild', () => {
  it('tags <registry>/<name>:<commit> and :<version>, and passes the base image as a build arg', () => {
    const result = plan();
    assert.deepEqual(result.references, [
      `registry.example.com:5000/hello-docker:${COMMIT}`,
      'registry.example.com:5000/hello-docker:1.0',
    ]);
    assert.deepEqual(result.buildArgs, { GREETING: 'hi', [BASE_IMAGE_ARG]: 'buildfleet/base-bookworm:abc' });
    assert.equal(result.labels['org.opencontainers.image.revision'], COMMIT);
    assert.equal(result.labels['org.opencontainers.image.version'], '1.0');
    assert.equal(result.target, undefined);
  });

  it('uses docker.name and docker.target, a registry path, and only the commit tag without a version', () => {
    const result = plan({
      pkg: pkg({ version: undefined, docker: { buildArgs: {}, target: 'runtime', name: 'team/hello' } }),
      registry: 'registry.example.com/builds/',
    });
    assert.deepEqual(result.references, [`registry.example.com/builds/team/hello:${COMMIT}`]);
    assert.equal(result.target, 'runtime');
    assert.equal(result.name, 'team/hello');
  });

  it('keeps the base image arg ours even when the package sets it', () => {
    const result = plan({ pkg: pkg({ docker: { buildArgs: { [BASE_IMAGE_ARG]: 'evil:1' } } }) });
    assert.equal(result.buildArgs[BASE_IMAGE_ARG], 'buildfleet/base-bookworm:abc');
  });

  it('suffixes the tags with dist and arch when the package has several targets', () => {
    const targets = [
      { dist: 'bookworm', arch: 'x86_64', runnerGroup: 'default' },
      { dist: 'bookworm', arch: 'aarch64', runnerGroup: 'arm' },
    ];
    const result = plan({ pkg: pkg({ targets }), target: { dist: 'bookworm', arch: 'aarch64' } });
    assert.deepEqual(result.references, [
      `registry.example.com:5000/hello-docker:${COMMIT}-bookworm-aarch64`,
      'registry.example.com:5000/hello-docker:1.0-bookworm-aarch64',
    ]);
  });

  it('refuses names and versions a registry cannot take, naming the field', () => {
    const refused = (overrides: Parameters<typeof pkg>[0], field: string, text: RegExp) =>
      assert.throws(
        () => plan({ pkg: pkg(overrides) }),
        (error: unknown) =>
          isBuildfleetError(error, 'metadata-invalid') &&
          error.context['field'] === field &&
          text.test(error.message) &&
          error.message.startsWith('projects/images/hello-docker/buildfleet.yml: field'),
      );
    refused({ name: 'Hello_Docker' }, 'name', /set "docker.name"/);
    refused({ docker: { buildArgs: {}, name: 'Team/Hello' } }, 'docker.name', /not a docker image name/);
    refused({ version: '1.0+git2' }, 'version', /cannot be a docker tag/);
    refused({ version: '.1' }, 'version', /cannot be a docker tag/);
  });
});

describe('dockerArtifactsOf', () => {
  const record: DockerPushRecord = {
    pushed: [
      { reference: `r:5000/hello:${COMMIT}`, digest: DIGEST },
      { reference: 'r:5000/hello:1.0', digest: DIGEST },
    ],
    imageId: `sha256:${'cd'.repeat(32)}`,
    size: 123_456,
    baseImage: 'buildfleet/base-bookworm:abc',
    target,
    commit: COMMIT,
  };

  it('reports one docker-image per reference with the manifest digest, all pointing at the record', () => {
    assert.deepEqual(dockerArtifactsOf(record, '/out/docker-image.json'), [
      {
        name: DOCKER_RECORD_FILE,
        kind: 'docker-image',
        path: '/out/docker-image.json',
        reported: { name: `r:5000/hello:${COMMIT}`, size: 123_456, sha256: 'ab'.repeat(32) },
      },
      {
        name: DOCKER_RECORD_FILE,
        kind: 'docker-image',
        path: '/out/docker-image.json',
        reported: { name: 'r:5000/hello:1.0', size: 123_456, sha256: 'ab'.repeat(32) },
      },
    ]);
  });

  it('refuses a digest that is not sha256', () => {
    const bad = { ...record, pushed: [{ reference: 'r/h:1', digest: 'sha512:00' }] };
    assert.throws(
      () => dockerArtifactsOf(bad, '/x'),
      (error: unknown) => isBuildfleetError(error, 'internal'),
    );
  });
});

describe('docker registry settings', () => {
  const settings = { registry: 'reg.example.com:5000/team', insecure: false, usernameEnv: 'U', passwordEnv: 'P' };

  it('takes credentials from the named variables, or none', () => {
    assert.deepEqual(dockerRegistryFrom(settings, { U: 'bob', P: 's3cret' }), {
      registry: 'reg.example.com:5000/team',
      insecure: false,
      auth: { username: 'bob', password: 's3cret', serverAddress: 'reg.example.com:5000' },
    });
    assert.deepEqual(dockerRegistryFrom(settings, {}), { registry: 'reg.example.com:5000/team', insecure: false });
    assert.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
  });

  it('refuses only one of the two, naming the key and not the value', () => {
    assert.throws(
      () => dockerRegistryFrom(settings, { P: 's3cret' }),
      (error: unknown) =>
        isBuildfleetError(error, 'config-invalid') &&
        /runner\.docker\.usernameEnv: the variable U is not set/.test(error.message) &&
        !error.message.includes('s3cret'),
    );
  });

  it('is read from the runner config and its environment overrides', () => {
    const storage = { BUILDFLEET_STORAGE: JSON.stringify({ type: 'fs', root: '/tmp/unused' }) };
    const load = (env: Record<string, string>) => loadConfig(RunnerConfig, { env: { ...storage, ...env } });
    const defaults = { usernameEnv: 'BUILDFLEET_REGISTRY_USERNAME', passwordEnv: 'BUILDFLEET_REGISTRY_PASSWORD' };
    assert.deepEqual(
      load({ BUILDFLEET_RUNNER_DOCKER: JSON.stringify({ registry: '127.0.0.1:5000', insecure: true }) }).runner.docker,
      { registry: '127.0.0.1:5000', insecure: true, ...defaults },
    );
    assert.deepEqual(load({ BUILDFLEET_RUNNER_DOCKER_REGISTRY: 'reg.example.com/team' }).runner.docker, {
      registry: 'reg.example.com/team',
      insecure: false,
      ...defaults,
    });
    assert.equal(load({}).runner.docker, undefined);
    assert.throws(
      () => load({ BUILDFLEET_RUNNER_DOCKER_REGISTRY: 'https://reg.example.com' }),
      (error: unknown) => isBuildfleetError(error, 'config-invalid') && /runner\.docker\.registry/.test(error.message),
    );
  });
});

describe('docker builder', () => {
  it('needs a container engine: without one a docker build is kind-unsupported', () => {
    assert.throws(
      () => builderFor('docker'),
      (error: unknown) => isBuildfleetError(error, 'kind-unsupported') && /container engine/.test(error.message),
    );
    const builder = builderFor('docker', {
      docker: {
        engine: createDockerodeEngine({ socketPath: '/nonexistent.sock' }),
        registry: { registry: '127.0.0.1:5000', insecure: true },
        tmpDir: '/tmp',
      },
    });
    assert.equal(builder.kind, 'docker');
    assert.equal(builder.needsBuildroot, false);
  });

  it('finds the digest in the push progress of Docker and Podman', () => {
    assert.equal(pushedDigestIn(`1.0: digest: ${DIGEST} size: 581`, '1.0'), DIGEST);
    assert.equal(pushedDigestIn(`latest: digest: ${DIGEST} size: 527`, '1.0'), undefined);
    assert.equal(pushedDigestIn('The push refers to repository [127.0.0.1:5000/hello:1.0]', '1.0'), undefined);
    assert.equal(pushedDigestIn(`${COMMIT}: digest: ${DIGEST} size: 1`, COMMIT), DIGEST);
  });
});
