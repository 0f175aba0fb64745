/**
 * Package metadata: a directory under projects/ with buildfleet.yml (or the predecessor's
 * .cb/cloud_builder.yml) and its sources. Loading checks the file, settles the kind, and
 * completes every target from its dist (runner group, format, arches).
 */
import { stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { BuildfleetError } from '../../errors/index.ts';
import type { BuildKind } from '../../messages/build-request.ts';
import { checkSchema } from './check-schema.ts';
import { distUndefined, loadDistIfDefined, type DistSpec } from './dist.ts';
import { parseKiwiArgs } from './kiwi-args.ts';
import { decideKind, findBuildFiles, packageFilesFor, type PackageFiles } from './package-files.ts';
import { CloudBuilderFileSchema, NOOP_LIMITS, PackageFileSchema, type PackageFile } from './schemas.ts';
import { metadataInvalid, problemError, readYamlSource, type FieldPath, type YamlSource } from './yaml-source.ts';
import { pathExists } from '../path-exists.ts';

export const PACKAGE_FILE = 'buildfleet.yml';
export const CLOUD_BUILDER_FILE = '.cb/cloud_builder.yml';

export interface PackageTarget {
  dist: string;
  arch: string;
  /** From the target, else the dist's default. */
  runnerGroup: string;
}

export interface PackageSpec {
  /** Repo-relative path of the package directory, as in build keys: `projects/demo/hello`. */
  project: string;
  /** Absolute path of the package directory. */
  dir: string;
  /** Repo-relative path of the file read: `<project>/buildfleet.yml` or `<project>/.cb/cloud_builder.yml`. */
  metadataFile: string;
  metadataFormat: 'buildfleet' | 'cloud-builder';
  /** Set when both files exist: the predecessor's file is then not read. */
  ignoredMetadataFile?: string;
  name: string;
  version?: string;
  kind: BuildKind;
  /** True when `kind` came from the files rather than the metadata. */
  kindInferred: boolean;
  targets: PackageTarget[];
  /** Build files relative to `dir`. */
  files: PackageFiles;
  /** Kind docker: build args, the stage to build, and the image name below the registry (default: `name`). */
  docker: { buildArgs: Record<string, string>; target?: string; name?: string };
  kiwi: { profiles: string[]; args: string[] };
  /**
   * Kind noop: how long the build waits (ms), the size of the file it writes (bytes), how many
   * log lines it writes first, for tests the message it fails with instead, and the names it
   * provides and needs in the dependency graph.
   */
  noop: { ms: number; bytes: number; logLines: number; fail?: string; provides: string[]; needs: string[] };
  /** Whether a new build of a package it builds against rebuilds it (issue 12). */
  rebuild: { onDependencyChange: boolean };
  /** Limits; undefined means the runner's default. The build never has network. */
  build: { timeoutMinutes?: number; memoryMb?: number; network: false };
}

/** Dists already read during one load, so a repo scan reads each dist file once. */
export type DistCache = Map<string, Promise<DistSpec | undefined>>;

/**
 * Reads the package at `packageDir` (relative to the sources repo).
 * @throws BuildfleetError 'source-path-missing' (no such directory), 'metadata-invalid' (naming file and field),
 *   'key-invalid' (a path that is not a plain relative path)
 */
export async function loadPackage(options: {
  repoDir: string;
  packageDir: string;
  distCache?: DistCache;
}): Promise<PackageSpec> {
  const project = projectPath(options.packageDir);
  const dir = join(options.repoDir, project);
  await requireDirectory(dir, project);
  const own = await readYamlSource(options.repoDir, `${project}/${PACKAGE_FILE}`);
  const predecessor =
    own === undefined ? await readYamlSource(options.repoDir, `${project}/${CLOUD_BUILDER_FILE}`) : undefined;
  const source = own ?? predecessor;
  if (source === undefined) {
    throw metadataInvalid(
      `${project}/${PACKAGE_FILE}`,
      `missing: a package directory needs ${PACKAGE_FILE} (or the predecessor's ${CLOUD_BUILDER_FILE})`,
      {},
    );
  }
  const metadata = own !== undefined ? fromPackageFile(own) : fromCloudBuilderFile(source);
  const found = await findBuildFiles(dir);
  const decision = decideKind(metadata.kind, found, project);
  if ('problem' in decision) throw problemError(source, { path: ['kind'], reason: decision.problem });
  const name = metadata.name ?? basename(project);
  const chosen = packageFilesFor(decision.kind, found, name);
  if ('problem' in chosen) throw metadataInvalid(source.file, `${project} ${chosen.problem}`, {});
  if (metadata.noop !== undefined && decision.kind !== 'noop') {
    throw problemError(source, { path: ['noop'], reason: `is for kind noop only; this package is ${decision.kind}` });
  }
  if (metadata.kiwi !== undefined && decision.kind !== 'kiwi') {
    throw problemError(source, { path: ['kiwi'], reason: `is for kind kiwi only; this package is ${decision.kind}` });
  }
  const kiwiArgs = parseKiwiArgs(metadata.kiwi?.args ?? []);
  if ('reason' in kiwiArgs) {
    throw problemError(source, { path: ['kiwi', 'args', kiwiArgs.index], reason: kiwiArgs.reason });
  }
  const targets = await completeTargets(metadata, decision.kind, source, options);
  const ignored = own !== undefined && (await pathExists(join(dir, CLOUD_BUILDER_FILE)));
  return {
    project,
    dir,
    metadataFile: source.file,
    metadataFormat: own !== undefined ? 'buildfleet' : 'cloud-builder',
    ...(ignored ? { ignoredMetadataFile: `${project}/${CLOUD_BUILDER_FILE}` } : {}),
    name,
    ...(metadata.version === undefined ? {} : { version: metadata.version }),
    kind: decision.kind,
    kindInferred: decision.inferred,
    targets,
    files: chosen.files,
    docker: {
      buildArgs: metadata.docker?.buildArgs ?? {},
      ...(metadata.docker?.target === undefined ? {} : { target: metadata.docker.target }),
      ...(metadata.docker?.name === undefined ? {} : { name: metadata.docker.name }),
    },
    kiwi: { profiles: metadata.kiwi?.profiles ?? [], args: metadata.kiwi?.args ?? [] },
    noop: {
      ms: metadata.noop?.ms ?? NOOP_LIMITS.defaultMs,
      bytes: metadata.noop?.bytes ?? NOOP_LIMITS.defaultBytes,
      logLines: metadata.noop?.logLines ?? 0,
      ...(metadata.noop?.fail === undefined ? {} : { fail: metadata.noop.fail }),
      provides: metadata.noop?.provides ?? [name],
      needs: metadata.noop?.needs ?? [],
    },
    rebuild: { onDependencyChange: metadata.rebuild?.onDependencyChange ?? true },
    build: { ...metadata.build, network: false },
  };
}

/** The metadata of either format in buildfleet.yml terms, with where its targets are for errors. */
interface PackageMetadata extends Omit<PackageFile, 'targets'> {
  targets: { dist: string; arch: string; runnerGroup?: string }[];
  /** Field path of target i's key (`targets[i].dist` / `distributions[i].runner_group`). */
  targetField(index: number, key: 'dist' | 'arch' | 'runnerGroup'): FieldPath;
}

function fromPackageFile(source: YamlSource): PackageMetadata {
  const data = checkSchema(source, PackageFileSchema, 'package');
  return { ...data, targetField: (index, key) => ['targets', index, key] };
}

function fromCloudBuilderFile(source: YamlSource): PackageMetadata {
  const value = source.value;
  if (typeof value === 'object' && value !== null && !('distributions' in value) && 'images' in value) {
    throw problemError(source, {
      path: ['distributions'],
      reason: `is required: "images" entries are not read; describe a KIWI image in a ${PACKAGE_FILE}`,
    });
  }
  const data = checkSchema(source, CloudBuilderFileSchema, 'cloud builder');
  return {
    ...(data.name === undefined ? {} : { name: data.name }),
    targets: data.distributions.map(({ dist, arch, runner_group }) => ({
      dist,
      arch,
      ...(runner_group === undefined ? {} : { runnerGroup: runner_group }),
    })),
    targetField: (index, key) => ['distributions', index, key === 'runnerGroup' ? 'runner_group' : key],
  };
}

async function completeTargets(
  metadata: PackageMetadata,
  kind: BuildKind,
  source: YamlSource,
  options: { repoDir: string; distCache?: DistCache },
): Promise<PackageTarget[]> {
  const cache: DistCache = options.distCache ?? new Map<string, Promise<DistSpec | undefined>>();
  const seen = new Set<string>();
  const targets: PackageTarget[] = [];
  for (const [index, target] of metadata.targets.entries()) {
    const problem = (key: 'dist' | 'arch', reason: string) =>
      problemError(source, { path: metadata.targetField(index, key), reason });
    const id = `${target.dist}.${target.arch}`;
    if (seen.has(id)) throw problem('arch', `repeats the target ${target.dist} ${target.arch}`);
    seen.add(id);
    const dist = await distFor(target.dist, options.repoDir, cache, source, metadata.targetField(index, 'dist'));
    if ((kind === 'deb' || kind === 'rpm') && dist.format !== kind) {
      throw problem('dist', `names dist "${dist.name}", which builds ${dist.format} packages; this package is ${kind}`);
    }
    if (dist.arches !== undefined && !dist.arches.includes(target.arch)) {
      throw problem('arch', `is "${target.arch}", which dist "${dist.name}" does not list (${dist.arches.join(', ')})`);
    }
    targets.push({ dist: target.dist, arch: target.arch, runnerGroup: target.runnerGroup ?? dist.runnerGroup });
  }
  return targets;
}

/** A dist that does not exist is reported against the dist file, with the line that names it. */
async function distFor(
  name: string,
  repoDir: string,
  cache: DistCache,
  source: YamlSource,
  field: FieldPath,
): Promise<DistSpec> {
  let pending = cache.get(name);
  if (pending === undefined) {
    pending = loadDistIfDefined({ repoDir, name });
    // Whoever awaits handles a rejection; this keeps a cached failure from counting as unhandled meanwhile.
    pending.catch(() => undefined);
    cache.set(name, pending);
  }
  const dist = await pending;
  if (dist !== undefined) return dist;
  const line = source.lineOf(field);
  throw distUndefined(name, ` (named by ${source.file}${line === undefined ? '' : ` line ${line}`})`);
}

/** `./projects/demo/hello/` -> `projects/demo/hello`; refuses absolute paths and `..`. */
function projectPath(packageDir: string): string {
  const normalised = posix.normalize(packageDir.replaceAll('\\', '/')).replace(/\/+$/, '');
  const bad =
    normalised === '.' || normalised === '' || normalised.startsWith('/') || normalised.split('/').includes('..');
  if (bad) {
    throw new BuildfleetError(
      'key-invalid',
      `package path "${packageDir}" must be a directory inside the sources repo`,
      {
        context: { value: packageDir },
      },
    );
  }
  return normalised;
}

async function requireDirectory(dir: string, project: string): Promise<void> {
  let isDirectory = false;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch {
    // Reported below as missing.
  }
  if (!isDirectory) {
    throw new BuildfleetError(
      'source-path-missing',
      `package directory ${project} does not exist in the sources repo`,
      {
        context: { path: project },
      },
    );
  }
}
