/**
 * The import boundaries of .dependency-cruiser.mjs: each rule refuses the import it names, in a
 * small tree laid out like the repository. `npm run deps:check` (part of `npm run check`)
 * holds the repository itself to them.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type IConfiguration } from 'dependency-cruiser';

const root = fileURLToPath(new URL('../..', import.meta.url));
const config = ((await import(join(root, '.dependency-cruiser.mjs'))) as { default: IConfiguration }).default;

/** The rules each import breaks, cruised in `dir` with the project's rules. */
async function violations(dir: string): Promise<Array<{ rule: string; from: string; to: string }>> {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    const options: ICruiseOptions = {
      ruleSet: { forbidden: config.forbidden },
      ...config.options,
      tsConfig: undefined,
      validate: true,
    };
    const result = await cruise(['.'], options);
    if (typeof result.output === 'string') throw new Error(`unexpected string output: ${result.output}`);
    return result.output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
  } finally {
    process.chdir(previous);
  }
}

describe('import boundaries (dependency-cruiser)', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'buildfleet-boundaries-'));
    dirs.push(dir);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  it('refuses shared -> service, service -> service, cli -> a service outside start-up, and cycles of type imports', async () => {
    const dir = await tree({
      'shared/log/index.ts': "import { x } from '../../scheduler/core/x.ts';\nexport const y = x;\n",
      'scheduler/core/x.ts': 'export const x = 1;\n',
      'scheduler/config.ts': 'export const c = 1;\n',
      'runner/main.ts': "import { x } from '../scheduler/core/x.ts';\nexport const r = x;\n",
      'collector/a.ts': "import type { B } from './b.ts';\nexport type A = { b?: B };\n",
      'collector/b.ts': "import type { A } from './a.ts';\nexport type B = { a?: A };\n",
      'cli/commands/status.ts': "import { x } from '../../scheduler/core/x.ts';\nexport const s = x;\n",
      'cli/commands/repos.ts': "import { c } from '../../scheduler/config.ts';\nexport const s = c;\n",
      'cli/commands/scheduler.ts': "import { x } from '../../scheduler/core/x.ts';\nexport const s = x;\n",
      'cli/up/all-in-one.ts': "import { x } from '../../scheduler/core/x.ts';\nexport const u = x;\n",
      'scheduler/main.ts': "import { x } from './core/x.ts';\nexport const m = x;\n",
    });
    const found = await violations(dir);
    const has = (rule: string, from: string): boolean => found.some((v) => v.rule === rule && v.from === from);
    assert.ok(has('shared-imports-no-service', 'shared/log/index.ts'), JSON.stringify(found));
    assert.ok(has('services-never-import-each-other', 'runner/main.ts'), JSON.stringify(found));
    assert.ok(has('cli-imports-services-only-to-start-them', 'cli/commands/status.ts'), JSON.stringify(found));
    assert.ok(
      found.some((v) => v.rule === 'no-cycle' && v.from.startsWith('collector/')),
      JSON.stringify(found),
    );
    // What is allowed: a service importing itself, start-up code importing a service, a command reading a config schema.
    for (const allowed of [
      'scheduler/main.ts',
      'cli/commands/scheduler.ts',
      'cli/up/all-in-one.ts',
      'cli/commands/repos.ts',
    ]) {
      assert.ok(!found.some((v) => v.from === allowed), `${allowed}: ${JSON.stringify(found)}`);
    }
  });
});
