/**
 * Message keys (DESIGN.md §3): the build key `<project>@<dist>.<arch>` and the repo key
 * `<parent dir of the package>/<dist>`. Projects are repo-relative POSIX paths such as
 * `projects/demo/hello-deb`; anything else is rejected so that a key always means one thing.
 */
import { BuildfleetError } from '../errors/index.ts';
import type { Target } from './common.ts';
import { ARCH_PATTERN, DIST_PATTERN, InputLimits, PROJECT_PATTERN, inputPatternPhrases } from './input-limits.ts';

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
  if (at <= 0 || dot < at) throw keyInvalid(`build key ${shown(buildKey)} is not <project>@<dist>.<arch>`, buildKey);
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

const projectPattern = new RegExp(PROJECT_PATTERN);
const distPattern = new RegExp(DIST_PATTERN);
const archPattern = new RegExp(ARCH_PATTERN);

/** Why `project` cannot name a package (a directory of the sources repo), or undefined when it can. */
export function projectProblem(project: string): string | undefined {
  if (project.length > InputLimits.projectChars || !projectPattern.test(project)) {
    return `project ${shown(project)} must be ${inputPatternPhrases[PROJECT_PATTERN]}, at most ${InputLimits.projectChars} characters`;
  }
  return undefined;
}

/** The same rules as the message schemas (input-limits.ts), so a key and a message never disagree. */
function checkProject(project: string): void {
  const problem = projectProblem(project);
  if (problem !== undefined) throw keyInvalid(problem, project);
}

function checkDist(dist: string): void {
  if (dist.length > InputLimits.nameChars || !distPattern.test(dist)) {
    throw keyInvalid(
      `dist ${shown(dist)} must be ${inputPatternPhrases[DIST_PATTERN]}, at most ${InputLimits.nameChars} characters`,
      dist,
    );
  }
}

function checkArch(arch: string): void {
  if (arch.length > InputLimits.nameChars || !archPattern.test(arch)) {
    throw keyInvalid(
      `arch ${shown(arch)} must be ${inputPatternPhrases[ARCH_PATTERN]}, at most ${InputLimits.nameChars} characters`,
      arch,
    );
  }
}

/** A value in an error message: quoted, and cut when long (a megabyte-long name stays out of logs). */
function shown(value: string): string {
  return value.length > 80 ? `"${value.slice(0, 77)}..." (${value.length} characters)` : `"${value}"`;
}

function keyInvalid(message: string, value: string): BuildfleetError {
  return new BuildfleetError('key-invalid', message, { context: { value: value.slice(0, 80) } });
}
