/**
 * The ContainerEngine adapter (dockerode) against Podman's Docker API: image import and build,
 * failure reporting, and what happens with images that are not there.
 */
import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import { createDockerodeEngine } from '../../runner/engine/index.ts';
import { startPodmanService } from '../../infra/podman/service.ts';
import { uniqueName } from '../harness/names.ts';
import { usePodman } from '../harness/podman.ts';

const { socketPath } = await usePodman();
const engine = createDockerodeEngine({ socketPath });

describe('dockerode engine (podman)', () => {
  let dir: string;
  const tags: string[] = [];
  const tag = (label: string): string => {
    const name = `buildfleet-test/${uniqueName(label)}:v1`;
    tags.push(name);
    return name;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'buildroot-engine-'));
  });
  after(async () => {
    for (const name of tags) await engine.removeImage(name);
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a root filesystem tarball under the given tag', async () => {
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc', 'hello'), 'hello\n');
    await runCommand('tar', ['--create', '--file', join(dir, 'rootfs.tar'), '--directory', rootfs, '.']);
    const name = tag('import');
    const image = await engine.importImage({ tar: createReadStream(join(dir, 'rootfs.tar')), tag: name });
    assert.match(image.id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(
      image.tags.some((t) => t.endsWith(name)),
      image.tags.join(','),
    );
    assert.equal(await engine.imageExists(name), true);
  });

  it('builds a Dockerfile with labels and streams the build output', async () => {
    const context = join(dir, 'good');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY message.txt /\n');
    await writeFile(join(context, 'message.txt'), 'hi\n');
    const name = tag('build');
    const lines: string[] = [];
    const image = await engine.buildImage({
      contextDir: context,
      tag: name,
      labels: { 'org.buildfleet.test': 'yes' },
      onLine: (line) => lines.push(line),
    });
    assert.equal(image.labels['org.buildfleet.test'], 'yes');
    assert.ok(
      lines.some((line) => line.includes('COPY message.txt')),
      lines.join('\n'),
    );
  });

  it('turns a failing build step into build-failed (the engine answers 200 with an error item)', async () => {
    const context = join(dir, 'bad');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nRUN /bin/false\n');
    const name = tag('failing');
    await assert.rejects(engine.buildImage({ contextDir: context, tag: name }), (error) => {
      assert.ok(isBuildfleetError(error, 'build-failed'), String(error));
      return true;
    });
    assert.equal(await engine.imageExists(name), false);
  });

  it('reports a missing image as absent, removes it quietly, and cannot run it', async () => {
    const missing = `buildfleet-test/${uniqueName('missing')}:v1`;
    assert.equal(await engine.inspectImage(missing), undefined);
    await engine.removeImage(missing);
    await assert.rejects(
      engine.runContainer({
        image: missing,
        cmd: ['true'],
        workdir: '/',
        network: 'none',
        memoryBytes: 64 * 1024 * 1024,
        pidsLimit: 10,
        timeoutMs: 10_000,
      }),
      (error) => isBuildfleetError(error, 'infra-failed'),
    );
  });

  it('starts and stops a podman service of its own; refuses a socket another engine serves', async () => {
    const service = await startPodmanService({ socketPath: join(dir, 'own', 'podman.sock') });
    await createDockerodeEngine({ socketPath: service.socketPath }).ping();
    await Promise.all([service.stop(), service.stop()]);
    assert.equal(existsSync(service.socketPath), false);
    await assert.rejects(createDockerodeEngine({ socketPath: service.socketPath }).ping(), (error) =>
      isBuildfleetError(error, 'engine-unavailable'),
    );
    await assert.rejects(startPodmanService({ socketPath }), (error) => isBuildfleetError(error, 'infra-failed'));
  });
});
