/**
 * The sources repository of `buildfleet up`: a given git URL or directory, or, on first
 * start, a local git repository made from the example sources (examples/sources).
 */
import { cp, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../shared/exec/index.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/sources', import.meta.url));

export interface UpSources {
  url: string;
  /** True when the example repository was made by this start. */
  created: boolean;
}

export async function prepareSources(options: { sources?: string; dataDir: string }): Promise<UpSources> {
  if (options.sources) {
    const given = options.sources;
    const isPath = !/^[a-z][a-z0-9+.-]*:\/\//i.test(given) && !given.includes('@');
    return { url: isPath ? resolve(given) : given, created: false };
  }
  const dir = resolve(options.dataDir, 'sources');
  if (await exists(join(dir, '.git'))) return { url: dir, created: false };
  await mkdir(dir, { recursive: true });
  await cp(EXAMPLES, dir, { recursive: true });
  const git = (args: string[]) =>
    runCommand('git', ['-c', 'user.name=buildfleet up', '-c', 'user.email=up@buildfleet.invalid', ...args], {
      cwd: dir,
      timeoutMs: 60_000,
    });
  await git(['init', '--quiet', '--initial-branch', 'main']);
  await git(['add', '--all']);
  await git(['commit', '--quiet', '--message', 'buildfleet example sources']);
  return { url: dir, created: true };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
