/**
 * Message keys (DESIGN.md §3): the build key `<project>@<dist>.<arch>` and the repo key
 * `<parent dir of the package>/<dist>`. Projects are repo-relative POSIX paths such as
 * `projects/demo/hello-deb`; anything else is rejected so that a key always means one thing.
 */
import { BuildfleetError } from '../errors/index.ts';
import type { Target } from './common.ts';

/** Arch names never contain a dot, so a build key splits on its last dot. */
const ARCH_PATTERN = /^[A-Za-z0-9_-]+$/;

/** `projects/demo/hello-deb` + {bookworm, x86_64} -> `projects/demo/hello-deb@bookworm.x86_64` */
export function buildKeyOf(project: string, target: Target): string {
  checkProject(project);
  checkDist(target.dist);
  checkArch(target.arch);
  return `${project}@${target.dist}.${target.arch}`;
}

/** The inverse of buildKeyOf. */
export function parseBuildKey(buildKey: string): { project: string; target: Target } {
  const at = buildKey.lastIndexOf('@');
  const dot = buildKey.lastIndexOf('.');
  if (at <= 0 || dot < at) throw keyInvalid(`build key "${buildKey}" is not <project>@<dist>.<arch>`, buildKey);
  const project = buildKey.slice(0, at);
  const target = { dist: buildKey.slice(at + 1, dot), arch: buildKey.slice(dot + 1) };
  buildKeyOf(project, target);
  return { project, target };
}

/**
 * All packages of one project directory and dist share one repository:
 * `projects/demo/hello-deb` + bookworm -> `projects/demo/bookworm`. A package at the top of
 * the sources repo (no parent directory) gets the dist alone.
 */
export function repoKeyOf(project: string, dist: string): string {
  checkProject(project);
  checkDist(dist);
  const slash = project.lastIndexOf('/');
  return slash < 0 ? dist : `${project.slice(0, slash)}/${dist}`;
}

function checkProject(project: string): void {
  const segments = project.split('/');
  const bad = segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad || project.includes('@') || project.includes('\\')) {
    throw keyInvalid(
      `project "${project}" must be a relative path like projects/demo/hello (no empty, "." or ".." segments, no "@" or "\\")`,
      project,
    );
  }
}

function checkDist(dist: string): void {
  if (dist === '' || dist.includes('@') || dist.includes('/')) {
    throw keyInvalid(`dist "${dist}" must be a non-empty name without "@" or "/"`, dist);
  }
}

function checkArch(arch: string): void {
  if (!ARCH_PATTERN.test(arch)) throw keyInvalid(`arch "${arch}" must match ${String(ARCH_PATTERN)}`, arch);
}

function keyInvalid(message: string, value: string): BuildfleetError {
  return new BuildfleetError('key-invalid', message, { context: { value } });
}
