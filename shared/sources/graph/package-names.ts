/**
 * What deb and rpm sources provide and need, by name (pure, from the file texts). Versions are
 * kept in the relation as written but never decide an edge: they are honoured when installing.
 */
import { controlParagraphs, debianBuildDepends } from '../metadata/debian-build-depends.ts';
import {
  expandMacros,
  joinContinuations,
  rpmBuildRequires,
  simpleMacros,
  splitRequirements,
} from '../metadata/rpm-build-requires.ts';
import type { GraphNeed } from './types.ts';

export interface ProvidesNeeds {
  provides: string[];
  needs: GraphNeed[];
}

const DEB_NAME = /^\s*([a-z0-9][a-z0-9+.-]*)/i;

/**
 * debian/control: every `Package:` and the names of its `Provides:`; a .dsc: its `Binary:` list.
 * Needs: Build-Depends, -Arch and -Indep with no arch, so arch restrictions drop nothing.
 */
export function debianProvidesNeeds(controlText: string, file = 'debian/control'): ProvidesNeeds {
  const [source, ...binaries] = controlParagraphs(controlText);
  const provides: string[] = [];
  for (const listed of (source?.get('binary') ?? '').split(',')) addName(provides, listed);
  for (const binary of binaries) {
    addName(provides, binary.get('package') ?? '');
    for (const provided of (binary.get('provides') ?? '').split(',')) addName(provides, provided);
  }
  const needs = debianBuildDepends(controlText, { file }).map((relation) => ({
    relation,
    names: unique(relation.split('|').map((alternative) => DEB_NAME.exec(alternative)?.[1] ?? '')),
  }));
  return { provides: unique(provides), needs };
}

function addName(names: string[], text: string): void {
  const name = DEB_NAME.exec(text)?.[1];
  // `${misc:Depends}`-style substitutions and empty fields give no name.
  if (name !== undefined && !text.trim().startsWith('$')) names.push(name);
}

/**
 * A spec: `Name:`, `%package foo` (`<name>-foo`), `%package -n foo` (`foo`) and `Provides:` names,
 * with simple macros expanded as for BuildRequires. Needs: the BuildRequires, by name;
 * `pkgconfig(x)` stays a name, a rich dependency `(a or b)` names a and b.
 */
export function rpmProvidesNeeds(specText: string): ProvidesNeeds {
  const lines = joinContinuations(specText);
  const macros = simpleMacros(lines);
  const name = macros.get('name');
  const provides: string[] = name === undefined ? [] : [name];
  for (const line of lines) {
    const subpackage = /^\s*%package\s+(.+?)\s*$/.exec(line);
    if (subpackage !== null) {
      const words = expandMacros(subpackage[1] ?? '', macros).split(/\s+/);
      const explicit = words.indexOf('-n');
      const full = explicit >= 0 ? words[explicit + 1] : undefined;
      const suffix = words.find((word) => !word.startsWith('-'));
      if (full !== undefined) provides.push(full);
      else if (suffix !== undefined && name !== undefined) provides.push(`${name}-${suffix}`);
      continue;
    }
    const provided = /^\s*Provides\s*:(.*)$/i.exec(line);
    if (provided === null) continue;
    for (const requirement of splitRequirements(expandMacros(provided[1] ?? '', macros))) {
      const [first] = requirement.split(' ');
      if (first !== undefined && first !== '') provides.push(first);
    }
  }
  const needs = rpmBuildRequires(specText).map((relation) => ({ relation, names: rpmNames(relation) }));
  return { provides: unique(provides), needs };
}

const RICH_KEYWORDS = new Set(['and', 'or', 'if', 'else', 'with', 'without', 'unless']);
const RICH_TOKEN = /[<>=]+|[^\s()<>=]+(?:\([^()]*\))?/g;

/** `x >= 1` -> [x]; `pkgconfig(x)` -> [pkgconfig(x)]; `(a >= 1 or pkgconfig(b))` -> [a, pkgconfig(b)]. */
function rpmNames(relation: string): string[] {
  if (!relation.startsWith('(')) return [relation.split(' ')[0] ?? relation];
  const names: string[] = [];
  let afterOperator = false;
  for (const [token] of relation.matchAll(RICH_TOKEN)) {
    if (/^[<>=]+$/.test(token)) {
      afterOperator = true;
      continue;
    }
    if (!afterOperator && !RICH_KEYWORDS.has(token)) names.push(token);
    afterOperator = false;
  }
  return unique(names);
}

export function unique(names: readonly string[]): string[] {
  return [...new Set(names.filter((name) => name !== ''))];
}
