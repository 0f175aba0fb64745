/**
 * What a package directory holds that tells its kind and the file its builder starts from:
 * debian/control or a .dsc (deb), a .spec (rpm), config.xml or *.kiwi (kiwi), a Dockerfile
 * (docker). Only the top of the package directory (and debian/control) is looked at. The
 * noop kind (benchmarks and tests) has no build file: it is never inferred, only declared.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildKind } from '../../messages/build-request.ts';

/** Candidate build files found in a package directory, relative to it, sorted. */
export interface FoundBuildFiles {
  debianControl: boolean;
  dscs: string[];
  specs: string[];
  kiwiDescriptions: string[];
  dockerfile: boolean;
}

/** How the kind was settled, or why it could not be. */
export type KindDecision = { kind: BuildKind; inferred: boolean } | { problem: string };

/** Build files of a package, relative to its directory; `main` is the one the builder starts from. */
export interface PackageFiles {
  main: string;
  debianControl?: string;
  dsc?: string;
  spec?: string;
  kiwiDescription?: string;
  dockerfile?: string;
}

/** The kinds files can show; noop is never inferred. */
type InferableKind = Exclude<BuildKind, 'noop'>;

const KIND_ORDER: readonly InferableKind[] = ['deb', 'rpm', 'kiwi', 'docker'];

const EVIDENCE_NAMES: Record<InferableKind, string> = {
  deb: 'debian/control or a *.dsc',
  rpm: 'a *.spec',
  kiwi: 'config.xml or a *.kiwi',
  docker: 'a Dockerfile',
};

/** The file a noop package's builder "starts from": it has nothing else. */
const NOOP_MAIN_FILE = 'buildfleet.yml';

export async function findBuildFiles(packageDir: string): Promise<FoundBuildFiles> {
  const names = (await readdir(packageDir)).sort();
  return {
    debianControl: await isFile(join(packageDir, 'debian', 'control')),
    dscs: names.filter((name) => name.endsWith('.dsc')),
    specs: names.filter((name) => name.endsWith('.spec')),
    kiwiDescriptions: names.filter((name) => name === 'config.xml' || name.endsWith('.kiwi')),
    dockerfile: names.includes('Dockerfile'),
  };
}

/** The files that show each kind, e.g. { deb: ['debian/control'], docker: ['Dockerfile'] }. */
function evidenceByKind(found: FoundBuildFiles): Record<InferableKind, string[]> {
  return {
    deb: [...(found.debianControl ? ['debian/control'] : []), ...found.dscs],
    rpm: found.specs,
    kiwi: found.kiwiDescriptions,
    docker: found.dockerfile ? ['Dockerfile'] : [],
  };
}

/**
 * The declared kind when given (it must have its files; noop needs none), else the one kind
 * the files show.
 */
export function decideKind(declared: BuildKind | undefined, found: FoundBuildFiles, project: string): KindDecision {
  const evidence = evidenceByKind(found);
  if (declared === 'noop') return { kind: 'noop', inferred: false };
  if (declared !== undefined) {
    if (evidence[declared].length > 0) return { kind: declared, inferred: false };
    return { problem: `is "${declared}" but ${project} has no ${EVIDENCE_NAMES[declared]} file` };
  }
  const shown = KIND_ORDER.filter((kind) => evidence[kind].length > 0);
  const [only] = shown;
  if (shown.length === 1 && only !== undefined) return { kind: only, inferred: true };
  if (shown.length === 0) {
    const all = KIND_ORDER.map((kind) => EVIDENCE_NAMES[kind]).join(', ');
    return { problem: `is not set and cannot be inferred: ${project} has none of ${all}` };
  }
  const listing = shown.map((kind) => `${kind} (${evidence[kind].join(', ')})`).join(', ');
  return { problem: `is not set and the files fit several kinds: ${listing}; set "kind"` };
}

/**
 * The build files of the chosen kind. With several candidates of a kind the one named after
 * the package wins (`<name>.spec`), else the choice is an error.
 */
export function packageFilesFor(
  kind: BuildKind,
  found: FoundBuildFiles,
  name: string,
): { files: PackageFiles } | { problem: string } {
  switch (kind) {
    case 'deb': {
      if (found.debianControl) return { files: { main: 'debian/control', debianControl: 'debian/control' } };
      const dsc = pickOne(found.dscs, (file) => file.startsWith(`${name}_`));
      return 'problem' in dsc ? dsc : { files: { main: dsc.file, dsc: dsc.file } };
    }
    case 'rpm': {
      const spec = pickOne(found.specs, (file) => file === `${name}.spec`);
      return 'problem' in spec ? spec : { files: { main: spec.file, spec: spec.file } };
    }
    case 'kiwi': {
      const preferred = ['config.xml', 'config.kiwi', `${name}.kiwi`];
      const description = pickOne(found.kiwiDescriptions, (file) => preferred.includes(file));
      return 'problem' in description
        ? description
        : { files: { main: description.file, kiwiDescription: description.file } };
    }
    case 'docker':
      return { files: { main: 'Dockerfile', dockerfile: 'Dockerfile' } };
    case 'noop':
      return { files: { main: NOOP_MAIN_FILE } };
    default: {
      const unknownKind: never = kind;
      return { problem: `unknown kind ${String(unknownKind)}` };
    }
  }
}

function pickOne(candidates: string[], preferred: (file: string) => boolean): { file: string } | { problem: string } {
  const [only] = candidates;
  if (candidates.length === 1 && only !== undefined) return { file: only };
  const chosen = candidates.filter(preferred);
  const [first] = chosen;
  if (chosen.length === 1 && first !== undefined) return { file: first };
  if (candidates.length === 0) return { problem: 'has no build file' };
  return { problem: `has several candidate build files (${candidates.join(', ')}); keep one per package directory` };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
