import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCommand } from '../../shared/exec/index.ts';

const bin = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));
const examples = fileURLToPath(new URL('../../examples/sources/projects/demo', import.meta.url));
const run = promisify(execFile);

interface LocalResult {
  state: string;
  artifacts: Array<{ name: string; path: string; sha256: string; size: number }>;
  log: string;
  error?: { code: string; message: string };
}

describe('buildfleet local build (host buildroot, no cluster)', { timeout: 300_000 }, () => {
  let out = '';
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'buildfleet-local-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('builds the rpm example into --out and describes the result as JSON', async () => {
    const dir = join(out, 'rpm');
    const { stdout } = await run(
      process.execPath,
      [bin, 'local', 'build', join(examples, 'hello-rpm'), '--buildroot', 'host', '--out', dir, '--json'],
      { timeout: 240_000 },
    );
    const result = JSON.parse(stdout) as LocalResult;
    assert.equal(result.state, 'succeeded');
    const rpm = result.artifacts.find((a) => a.name.endsWith('.x86_64.rpm'));
    assert.ok(rpm, 'a binary rpm');
    assert.ok(
      result.artifacts.some((a) => a.name.endsWith('.src.rpm')),
      'a source rpm',
    );
    for (const artifact of result.artifacts) {
      const bytes = await readFile(artifact.path);
      assert.equal(bytes.length, artifact.size);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), artifact.sha256);
    }
    const info = await runCommand('rpm', ['-qip', rpm.path]);
    assert.match(info.stdout, /^Name\s*:\s*hello-rpm$/m);
    assert.match(await readFile(result.log, 'utf8'), /rpmbuild|succeeded/);
  });

  it('exits 1 with the reason when the target is not declared', async () => {
    await assert.rejects(
      run(
        process.execPath,
        [
          bin,
          'local',
          'build',
          join(examples, 'hello-rpm'),
          '--buildroot',
          'host',
          '--target',
          'bookworm.s390x',
          '--out',
          join(out, 'x'),
        ],
        {
          timeout: 60_000,
        },
      ),
      (e: unknown) => {
        const failure = e as { code?: number; stderr?: string };
        return failure.code === 1 && /--target bookworm\.s390x/.test(failure.stderr ?? '');
      },
    );
  });
});
