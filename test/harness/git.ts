/**
 * Real git repositories in temporary directories for tests: write files, commit, tag,
 * branch, and get the commit ids back. Every repo and directory is removed by cleanup().
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from '../../shared/exec/index.ts';

/** Fixed identity and dates-from-clock: tests never depend on the machine's git config. */
const GIT_TEST_ENV = {
  GIT_AUTHOR_NAME: 'buildfleet test',
  GIT_AUTHOR_EMAIL: 'test@buildfleet.invalid',
  GIT_COMMITTER_NAME: 'buildfleet test',
  GIT_COMMITTER_EMAIL: 'test@buildfleet.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

export interface TestGitRepo {
  /** The working tree. */
  dir: string;
  /** file:// URL of the repo, as the sources code should be given it. */
  url: string;
  /** Runs git in the repo and returns its trimmed stdout. */
  git(...args: string[]): Promise<string>;
  /** Writes files (repo-relative paths; directories are created). */
  write(files: Record<string, string>): Promise<void>;
  /** Deletes files or directories (repo-relative). */
  remove(...paths: string[]): Promise<void>;
  /** Stages everything and commits (empty commits allowed); returns the full commit id. */
  commit(message: string): Promise<string>;
  /** write() then commit(). */
  commitFiles(files: Record<string, string>, message?: string): Promise<string>;
  /** A tag on HEAD (or `at`); annotated tags point at a tag object, which resolution must peel. */
  tag(name: string, options?: { annotated?: boolean; at?: string }): Promise<void>;
  /** Creates a branch at HEAD (or `at`) and switches to it. */
  branch(name: string, at?: string): Promise<void>;
  /** Switches to an existing branch. */
  switchTo(name: string): Promise<void>;
}

export interface TestGitRepos {
  /** A new repository with default branch `main` and no commits. */
  create(name?: string): Promise<TestGitRepo>;
  /** A fresh empty directory under the same temporary root. */
  tempDir(name: string): Promise<string>;
  /** Removes every repository and directory made here. */
  cleanup(): Promise<void>;
}

export async function testGitRepos(prefix = 'buildfleet-git-'): Promise<TestGitRepos> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  let count = 0;
  return {
    async create(name = 'repo') {
      const dir = join(root, `${name}-${++count}`);
      await mkdir(dir, { recursive: true });
      await runGit(dir, ['init', '--quiet', '--initial-branch=main']);
      return testRepo(dir);
    },
    async tempDir(name) {
      const dir = join(root, `${name}-${++count}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

function testRepo(dir: string): TestGitRepo {
  const repo: TestGitRepo = {
    dir,
    url: pathToFileURL(dir).href,
    git: (...args) => runGit(dir, args),
    async write(files) {
      for (const [path, content] of Object.entries(files)) {
        const target = join(dir, path);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
      }
    },
    async remove(...paths) {
      for (const path of paths) await rm(join(dir, path), { recursive: true, force: true });
    },
    async commit(message) {
      await runGit(dir, ['add', '--all']);
      await runGit(dir, ['commit', '--quiet', '--allow-empty', '-m', message]);
      return runGit(dir, ['rev-parse', 'HEAD']);
    },
    async commitFiles(files, message = `change ${Object.keys(files).join(', ')}`) {
      await repo.write(files);
      return repo.commit(message);
    },
    async tag(name, options = {}) {
      const annotated = options.annotated === true ? ['-a', '-m', `tag ${name}`] : [];
      await runGit(dir, ['tag', ...annotated, name, ...(options.at === undefined ? [] : [options.at])]);
    },
    async branch(name, at) {
      await runGit(dir, ['switch', '--quiet', '-c', name, ...(at === undefined ? [] : [at])]);
    },
    async switchTo(name) {
      await runGit(dir, ['switch', '--quiet', name]);
    },
  };
  return repo;
}

async function runGit(dir: string, args: readonly string[]): Promise<string> {
  const result = await runCommand('git', ['-C', dir, ...args], { env: GIT_TEST_ENV });
  return result.stdout.trim();
}
