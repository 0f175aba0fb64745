/** Temp dirs that live as long as a describe block, and files written into them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';

/** A temp dir's path, known once the suite's `before` hook has made it. */
export interface SuiteDir {
  readonly path: string;
}

/**
 * Makes a temp dir (`<prefix><random>`) before the tests of the enclosing describe block and
 * removes it after them. Call it inside the describe callback; read `.path` inside the tests.
 */
export function suiteTempDir(prefix: string): SuiteDir {
  let dir: string | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get path(): string {
      if (dir === undefined) throw new Error(`the temp dir ${prefix}* exists only while its suite runs`);
      return dir;
    },
  };
}

/** Writes `text` to `name` in `dir` (which exists) and returns the file's path. */
export function writeFileIn(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Writes each file (path relative to `dir` → content) below `dir`, making directories; returns `dir`. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/**
 * A maker of fresh trees in the suite's dir: each call writes `base` plus `files` (which win)
 * into a new numbered subdirectory and returns its path.
 */
export function freshTrees(
  dir: SuiteDir,
  base: Record<string, string> = {},
): (files: Record<string, string>) => Promise<string> {
  let count = 0;
  return (files) => writeTree(join(dir.path, `repo-${++count}`), { ...base, ...files });
}
