/**
 * The image index's decisions without I/O: which builds go to the `images` repository, what
 * their items are, which builds each version keeps and where its files are copied from; and how
 * the repository server reads a path whose repo key holds a format name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repoFormatOf } from '../../collector/repo-builder.ts';
import {
  imageFilePath,
  indexedArtifactsOf,
  itemsOf,
  planImagesIndex,
  type ImageItem,
} from '../../collector/images/images-index.ts';
import type { Artifact, ArtifactKind, BuildEvent } from '../../shared/messages/index.ts';
import { parseRepoPath, repoPathCandidates } from '../../shared/repos/http.ts';

const SHA = 'a'.repeat(64);
const URL_BASE = 'http://repos.test/repos/projects/bench/bookworm/images';
let next = 0;

function artifact(name: string, kind: ArtifactKind, buildId = 'b'): Artifact {
  return { name, kind, size: 10, sha256: SHA, key: `builds/${buildId}/attempt-1/${name}` };
}

function succeeded(artifacts: (buildId: string) => Artifact[], project = 'projects/bench/n1'): BuildEvent {
  const buildId = `build-${++next}`;
  return {
    v: 1,
    type: 'build.event',
    buildId,
    attempt: 1,
    buildKey: `${project}@bookworm.x86_64`,
    project,
    target: { dist: 'bookworm', arch: 'x86_64' },
    repoKey: 'projects/bench/bookworm',
    state: 'succeeded',
    at: new Date(0).toISOString(),
    source: { service: 'runner', instance: 'r1' },
    commit: '0123456789abcdef0123456789abcdef01234567',
    artifacts: artifacts(buildId),
  };
}

const noop = (project?: string) => succeeded((id) => [artifact('n1_0123456789ab.noop', 'other', id)], project);

describe('repoFormatOf', () => {
  it('sends packages to apt or rpm, images and all-other builds to images, and the rest nowhere', () => {
    assert.equal(
      repoFormatOf(succeeded(() => [artifact('a.deb', 'deb'), artifact('a.buildinfo', 'buildinfo')])),
      'apt',
    );
    assert.equal(repoFormatOf(succeeded(() => [artifact('a.src.rpm', 'srpm')])), 'rpm');
    assert.equal(
      repoFormatOf(succeeded(() => [artifact('a.tbz', 'image'), artifact('a.packages', 'other')])),
      'images',
    );
    assert.equal(repoFormatOf(succeeded(() => [artifact('reg/x:1', 'docker-image')])), 'images');
    assert.equal(repoFormatOf(noop()), 'images');
    // A deb build whose only published file is other besides its packages stays apt.
    assert.equal(repoFormatOf(succeeded(() => [artifact('a.deb', 'deb'), artifact('x.noop', 'other')])), 'apt');
    assert.equal(
      repoFormatOf(succeeded(() => [artifact('a.buildinfo', 'buildinfo'), artifact('x', 'other')])),
      undefined,
    );
    assert.equal(repoFormatOf(succeeded(() => [])), undefined);
  });
});

describe('image index items', () => {
  it('lists images and docker images, not the side files of an image build', () => {
    const event = succeeded(() => [
      artifact('a.tbz', 'image'),
      artifact('a.packages', 'other'),
      artifact('reg.test/a:1', 'docker-image'),
    ]);
    assert.deepEqual(
      indexedArtifactsOf(event).map((a) => a.name),
      ['a.tbz', 'reg.test/a:1'],
    );
    const [image, docker] = itemsOf(event, URL_BASE);
    assert.equal(image?.path, `files/${event.buildId}/a.tbz`);
    assert.equal(image?.url, `${URL_BASE}/files/${event.buildId}/a.tbz`);
    assert.equal(image?.commit, event.commit);
    assert.equal(docker?.kind, 'docker-image');
    assert.equal(docker?.reference, 'reg.test/a:1');
    assert.equal(docker?.digest, `sha256:${SHA}`);
    assert.equal(docker?.path, undefined);
    assert.equal(docker?.url, undefined);
  });

  it('keeps file paths inside the version', () => {
    assert.equal(imageFilePath('b 1', 'sub/x y.img'), 'files/b_1/sub/x_y.img');
    assert.equal(imageFilePath('..', '../../etc/passwd'), 'files/_/_/_/etc/passwd');
  });
});

describe('planImagesIndex', () => {
  it('adds builds after the live items, keeps the newest N per build key, and copies each file from where it is', () => {
    const old = [noop(), noop(), noop('projects/bench/n2')];
    const first = planImagesIndex({
      previous: [],
      previousPrefix: undefined,
      builds: old,
      keepVersions: 2,
      repoUrl: 'http://old',
    });
    assert.deepEqual(
      first.copies.map((c) => c.from),
      old.map((e) => e.artifacts?.[0]?.key),
    );
    const added = [noop(), noop('projects/bench/n3')];
    const plan = planImagesIndex({
      previous: first.items,
      previousPrefix: 'repos/projects/bench/bookworm/images/versions/v1',
      builds: added,
      keepVersions: 2,
      repoUrl: URL_BASE,
    });
    const ids = (items: ImageItem[]) => items.map((i) => i.buildId);
    // n1 had two builds; the new one pushes the oldest out. n2 and n3 keep theirs.
    assert.deepEqual(ids(plan.items), [old[1]?.buildId, old[2]?.buildId, added[0]?.buildId, added[1]?.buildId]);
    assert.ok(
      plan.items.every((i) => i.url === `${URL_BASE}/${i.path}`),
      'URLs follow the current public URL',
    );
    assert.deepEqual(
      plan.copies.map((c) => c.from),
      [
        `repos/projects/bench/bookworm/images/versions/v1/files/${old[1]?.buildId}/n1_0123456789ab.noop`,
        `repos/projects/bench/bookworm/images/versions/v1/files/${old[2]?.buildId}/n1_0123456789ab.noop`,
        added[0]?.artifacts?.[0]?.key,
        added[1]?.artifacts?.[0]?.key,
      ],
    );
    assert.deepEqual(
      plan.copies.map((c) => c.path),
      plan.items.map((i) => i.path),
    );
  });

  it('copies nothing for docker images', () => {
    const plan = planImagesIndex({
      previous: [],
      previousPrefix: undefined,
      builds: [succeeded(() => [artifact('reg.test/a:1', 'docker-image')])],
      keepVersions: 1,
      repoUrl: URL_BASE,
    });
    assert.equal(plan.items.length, 1);
    assert.deepEqual(plan.copies, []);
  });
});

describe('repository paths', () => {
  it('reads every split of a path at a format name, the shortest repo key first', () => {
    assert.deepEqual(repoPathCandidates('/projects/images/bookworm/images/index.json'), [
      { repoKey: 'projects', format: 'images', file: 'bookworm/images/index.json' },
      { repoKey: 'projects/images/bookworm', format: 'images', file: 'index.json' },
    ]);
    assert.deepEqual(parseRepoPath('/projects/demo/bookworm/images/files/b/x.noop'), {
      repoKey: 'projects/demo/bookworm',
      format: 'images',
      file: 'files/b/x.noop',
    });
    assert.deepEqual(repoPathCandidates('/a/images/../x'), []);
  });
});
