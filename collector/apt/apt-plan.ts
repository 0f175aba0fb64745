import path from 'node:path';
import { compareDebianVersions, versionWithoutEpoch } from '../../shared/versions/debian-version.ts';

/** One binary package (.deb) to publish. */
export interface AptBinaryPackage {
  /** Local path of the .deb. */
  path: string;
  name: string;
  version: string;
  /** Debian architecture (`amd64`, `arm64`, `all`). */
  arch: string;
  /** Source package name; the pool directory. @default name */
  source?: string;
}

/** One source package: the .dsc and the files it lists (.orig.tar.*, .debian.tar.*, .tar.*). */
export interface AptSourcePackage {
  dscPath: string;
  name: string;
  version: string;
  /** Local paths of the files the .dsc lists, found beside it. */
  files: string[];
}

export interface AptPoolFile {
  from: string;
  /** Relative to the repository root, e.g. `pool/main/h/hello-deb/hello-deb_1.0-1_amd64.deb`. */
  to: string;
}

export interface AptRepositoryPlan {
  /** Every file copied into pool/ (the last `keepVersions` versions of each package). */
  pool: AptPoolFile[];
  /** Per Debian architecture, the newest binary of each package name (arch `all` ones in every list). */
  binaryIndex: Map<string, AptPoolFile[]>;
  /** The newest version of each source package: its .dsc and files, all in pool/. */
  sourceIndex: AptPoolFile[][];
  architectures: string[];
  /** Versions given but left out of the pool because newer ones fill the retention. */
  dropped: Array<{ name: string; version: string; arch: string }>;
}

export interface PlanAptRepositoryOptions {
  binaries: readonly AptBinaryPackage[];
  sources?: readonly AptSourcePackage[];
  /** Versions kept in the pool per package name and architecture (per source package name). @default 3 */
  keepVersions?: number;
  /** Architectures of the binary-<arch> indexes. @default the concrete architectures of the binaries, else ['all'] */
  architectures?: readonly string[];
}

/** `pool/main/<prefix>/<source>/`, prefix being `libx` for lib* sources as in the Debian archive. */
export function poolDirectory(source: string): string {
  const prefix = source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1);
  return `pool/main/${prefix}/${source}`;
}

function debFileName(binary: Pick<AptBinaryPackage, 'name' | 'version' | 'arch'>): string {
  return `${binary.name}_${versionWithoutEpoch(binary.version)}_${binary.arch}.deb`;
}

/**
 * Decides the repository's content without touching the disk: which files go where, which
 * versions stay in the pool (newest first per name/arch, the last `keepVersions`), and which
 * version each index lists (the newest). When the same name/version/arch is given twice, the
 * one given last wins (a rebuild replaces the earlier upload).
 */
export function planAptRepository(options: PlanAptRepositoryOptions): AptRepositoryPlan {
  const keep = options.keepVersions ?? 3;
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keepVersions must be a positive integer, not ${keep}`);
  const dropped: AptRepositoryPlan['dropped'] = [];

  const binaryGroups = groupNewestFirst(
    options.binaries,
    (b) => `${b.name}\0${b.arch}`,
    (b) => `${b.version}`,
  );
  const keptBinaries = binaryGroups.map((group) => {
    for (const old of group.slice(keep)) dropped.push({ name: old.name, version: old.version, arch: old.arch });
    return group
      .slice(0, keep)
      .map((b) => ({ from: b.path, to: `${poolDirectory(b.source ?? b.name)}/${debFileName(b)}`, b }));
  });

  const sourceGroups = groupNewestFirst(
    options.sources ?? [],
    (s) => s.name,
    (s) => s.version,
  );
  const keptSources = sourceGroups.map((group) => {
    for (const old of group.slice(keep)) dropped.push({ name: old.name, version: old.version, arch: 'source' });
    return group
      .slice(0, keep)
      .map((s) =>
        [s.dscPath, ...s.files].map((file) => ({ from: file, to: `${poolDirectory(s.name)}/${path.basename(file)}` })),
      );
  });

  const concrete = [...new Set(options.binaries.map((b) => b.arch).filter((arch) => arch !== 'all'))].sort();
  const architectures = [...(options.architectures ?? (concrete.length > 0 ? concrete : ['all']))];
  const binaryIndex = new Map<string, AptPoolFile[]>(architectures.map((arch) => [arch, []]));
  for (const group of keptBinaries) {
    const newest = group[0];
    if (newest === undefined) continue;
    const entry = { from: newest.from, to: newest.to };
    for (const arch of newest.b.arch === 'all' ? architectures : [newest.b.arch]) binaryIndex.get(arch)?.push(entry);
  }

  const pool = uniqueByTarget([...keptBinaries.flat().map(({ from, to }) => ({ from, to })), ...keptSources.flat(2)]);
  const sourceIndex = keptSources.map((group) => group[0]).filter((files) => files !== undefined);
  return { pool, binaryIndex, sourceIndex, architectures, dropped };
}

/** Groups by key, the last duplicate of a version replacing earlier ones, each group sorted newest first. */
function groupNewestFirst<T extends { version: string }>(
  items: readonly T[],
  key: (item: T) => string,
  version: (item: T) => string,
): T[][] {
  const groups = new Map<string, Map<string, T>>();
  for (const item of items) {
    const byVersion = groups.get(key(item)) ?? new Map<string, T>();
    byVersion.delete(version(item));
    byVersion.set(version(item), item);
    groups.set(key(item), byVersion);
  }
  return [...groups.keys()]
    .sort()
    .map((k) => [...(groups.get(k)?.values() ?? [])].sort((a, b) => compareDebianVersions(b.version, a.version)));
}

/**
 * One source per pool path. Source packages of different versions can share a file (the
 * .orig.tar.* of one upstream version); the last one planned wins, which holds the same bytes.
 */
function uniqueByTarget(files: AptPoolFile[]): AptPoolFile[] {
  const byTarget = new Map<string, AptPoolFile>();
  for (const file of files) byTarget.set(file.to, file);
  return [...byTarget.values()].sort((a, b) => a.to.localeCompare(b.to));
}
