/**
 * Atomic repository publish: versions uploaded whole, switched by one pointer, served over
 * HTTP from the live version (with the previous one as fallback), old versions removed.
 * Run against the filesystem store and against S3 (s3proxy).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishVersion } from '../../collector/publish/version-publisher.ts';
import { readPointer } from '../../shared/repos/pointer.ts';
import { parseRepoPath } from '../../shared/repos/http.ts';
import { createFsArtifactStore, listAll, type ArtifactStore } from '../../shared/storage/index.ts';
import { serveRepos } from '../harness/cluster.ts';
import { testS3Store, useS3 } from '../harness/s3.ts';

const s3 = await useS3();
const repoKey = 'projects/demo/bookworm';

async function tree(root: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(root, 'tree-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

function suite(name: string, makeStore: () => Promise<{ store: ArtifactStore; cleanup: () => Promise<void> }>): void {
  describe(`repository publish (${name})`, { timeout: 120_000 }, () => {
    let store: ArtifactStore;
    let cleanup: () => Promise<void>;
    let server: { url: string; close: () => Promise<void> };
    let base = '';
    let scratch = '';
    before(async () => {
      ({ store, cleanup } = await makeStore());
      scratch = await mkdtemp(join(tmpdir(), 'buildfleet-publish-'));
      server = await serveRepos(store);
      base = `${server.url}/${repoKey}/apt`;
    });
    after(async () => {
      await server.close();
      await cleanup();
      await rm(scratch, { recursive: true, force: true });
    });

    const get = async (path: string): Promise<{ status: number; text: string; version: string | null }> => {
      const response = await fetch(`${base}/${path}`);
      return {
        status: response.status,
        text: await response.text(),
        version: response.headers.get('x-buildfleet-repo-version'),
      };
    };

    it('serves nothing before the first publish, then the live version', async () => {
      assert.equal((await get('dists/bookworm/InRelease')).status, 404);
      const v1 = await publishVersion({
        store,
        repoKey,
        format: 'apt',
        dir: await tree(scratch, { 'dists/bookworm/InRelease': 'one', 'pool/a_1.deb': 'A1', 'key.asc': 'KEY' }),
      });
      assert.equal(v1.files, 3);
      const answer = await get('dists/bookworm/InRelease');
      assert.deepEqual([answer.status, answer.text, answer.version], [200, 'one', v1.version]);
      assert.equal((await get('pool/a_1.deb')).text, 'A1');
    });

    it('switches to a new version in one step and still serves the previous one as fallback', async () => {
      const before = await readPointer(store, repoKey, 'apt');
      const v2 = await publishVersion({
        store,
        repoKey,
        format: 'apt',
        dir: await tree(scratch, { 'dists/bookworm/InRelease': 'two', 'pool/a_2.deb': 'A2', 'key.asc': 'KEY' }),
      });
      assert.equal(v2.pointer.previous, before?.version);
      assert.equal((await get('dists/bookworm/InRelease')).text, 'two');
      assert.equal((await get('pool/a_2.deb')).text, 'A2');
      const old = await get('pool/a_1.deb');
      assert.deepEqual(
        [old.status, old.text, old.version],
        [200, 'A1', before?.version],
        'a reader of the old metadata still gets its files',
      );
    });

    it('leaves the live version untouched when a publish dies before the switch', async () => {
      const live = await readPointer(store, repoKey, 'apt');
      await assert.rejects(
        publishVersion({
          store,
          repoKey,
          format: 'apt',
          dir: await tree(scratch, { 'dists/bookworm/InRelease': 'broken', 'pool/a_3.deb': 'A3' }),
          beforeSwitch: () => Promise.reject(new Error('crash before the switch')),
        }),
        /crash before the switch/,
      );
      assert.deepEqual(await readPointer(store, repoKey, 'apt'), live);
      assert.equal((await get('dists/bookworm/InRelease')).text, 'two');
      assert.equal((await get('pool/a_3.deb')).status, 404);
    });

    it('removes versions no longer served', async () => {
      const v3 = await publishVersion({
        store,
        repoKey,
        format: 'apt',
        dir: await tree(scratch, { 'dists/bookworm/InRelease': 'three', 'pool/a_3.deb': 'A3' }),
      });
      // v1 and the half-uploaded version of the crash are gone; v2 (previous) and v3 stay.
      assert.equal(v3.removedVersions.length, 2);
      const prefix = `repos/${repoKey}/apt/versions/`;
      const remaining = new Set((await listAll(store, prefix)).map((e) => e.key.slice(prefix.length).split('/')[0]));
      assert.deepEqual(
        [...remaining].sort(),
        [v3.pointer.previous, v3.version].sort(),
        'only the live and the previous version',
      );
      const gone = await get('pool/a_1.deb');
      assert.equal(gone.status, 404, 'files only the removed version had are gone');
      assert.equal((JSON.parse(gone.text) as { error: { code: string } }).error.code, 'not-found', gone.text);
      assert.equal((await get('pool/a_2.deb')).text, 'A2', 'the previous version is still served');
      assert.equal((await get('../../../../etc/passwd')).status, 404);
    });
  });
}

describe('parseRepoPath', () => {
  it('splits repo key, format and file', () => {
    assert.deepEqual(parseRepoPath('/projects/demo/bookworm/apt/dists/bookworm/InRelease'), {
      repoKey: 'projects/demo/bookworm',
      format: 'apt',
      file: 'dists/bookworm/InRelease',
    });
    assert.equal(parseRepoPath('/apt/x'), undefined);
    assert.equal(parseRepoPath('/a/rpm'), undefined);
    assert.equal(parseRepoPath('/a/rpm/../x'), undefined);
  });
});

suite('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'buildfleet-publish-fs-'));
  return { store: await createFsArtifactStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

suite('s3', async () => {
  const { store, remove } = await testS3Store(s3, 'publish');
  return { store, cleanup: remove };
});
