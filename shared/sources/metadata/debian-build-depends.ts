/**
 * Build dependencies of a Debian source package, read from debian/control (or a .dsc):
 * Build-Depends, Build-Depends-Arch and Build-Depends-Indep, evaluated for one arch and a set
 * of build profiles, as relation strings `apt-get satisfy` takes: `debhelper-compat (= 13)`,
 * `libfoo-dev (>= 1.2) | libfoo2-dev`. Pure: no files, no apt.
 */
import { BuildfleetError } from '../../errors/index.ts';

export interface DebianBuildDependsOptions {
  /**
   * Debian arch the build is for (`amd64`, `arm64`; see debianArchOf). Alternatives restricted
   * to other arches (`[!amd64]`, `[i386]`) are dropped. @default no arch: restrictions are not evaluated and removed
   */
  arch?: string;
  /** Active build profiles (`nocheck`, `nodoc`, ...): decide `<!nocheck>`-style restrictions. @default [] */
  profiles?: readonly string[];
  /** Include Build-Depends-Indep (needed when arch-independent packages are built too). @default true */
  indep?: boolean;
  /** Name used in error messages. @default 'debian/control' */
  file?: string;
}

const FIELDS = ['build-depends', 'build-depends-arch'] as const;
const INDEP_FIELD = 'build-depends-indep';

/** buildfleet names arches as `uname -m` does; Debian has its own names. Unknown names pass through. */
const DEBIAN_ARCHES: Readonly<Record<string, string>> = {
  x86_64: 'amd64',
  aarch64: 'arm64',
  i386: 'i386',
  i686: 'i386',
  armv7l: 'armhf',
  armhf: 'armhf',
  ppc64le: 'ppc64el',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export function debianArchOf(arch: string): string {
  return DEBIAN_ARCHES[arch] ?? arch;
}

export function debianBuildDepends(controlText: string, options: DebianBuildDependsOptions = {}): string[] {
  const file = options.file ?? 'debian/control';
  const [source] = controlParagraphs(controlText);
  if (source === undefined) return [];
  const fields = options.indep === false ? FIELDS : [...FIELDS, INDEP_FIELD];
  const relations: string[] = [];
  for (const field of fields) {
    const value = source.get(field);
    if (value === undefined) continue;
    for (const text of value.split(',')) {
      if (text.trim() === '') continue;
      const relation = evaluateRelation(text, options, () => unparsable(file, field, text));
      if (relation !== undefined && !relations.includes(relation)) relations.push(relation);
    }
  }
  return relations;
}

/**
 * Paragraphs of a deb822 file as field maps (names lower-cased, continuation lines joined
 * with newlines). `#` comment lines (allowed in debian/control) and an OpenPGP signature
 * around a .dsc are skipped.
 */
export function controlParagraphs(text: string): Map<string, string>[] {
  const paragraphs: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  let lastField: string | undefined;
  for (const line of unsigned(text).split(/\r?\n/)) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (/^[ \t]/.test(line)) {
      if (current !== undefined && lastField !== undefined) {
        current.set(lastField, `${current.get(lastField) ?? ''}\n${line.trim()}`);
      }
      continue;
    }
    const match = /^([^\s:][^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    if (current === undefined) {
      current = new Map();
      paragraphs.push(current);
    }
    lastField = (match[1] ?? '').toLowerCase();
    current.set(lastField, (match[2] ?? '').trim());
  }
  return paragraphs;
}

function unsigned(text: string): string {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '-----BEGIN PGP SIGNED MESSAGE-----') return text;
  const bodyStart = lines.findIndex((line) => line.trim() === '') + 1;
  const signatureStart = lines.findIndex((line) => line.trim() === '-----BEGIN PGP SIGNATURE-----');
  return lines.slice(bodyStart, signatureStart < 0 ? undefined : signatureStart).join('\n');
}

// name, optional (op version), optional [arches], optional <profile terms>.
const ALTERNATIVE =
  /^([a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?)\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?\s*(?:\[([^\]]*)\])?\s*((?:<[^>]*>\s*)*)$/i;

/** One comma-separated relation: the alternatives that apply, joined by ` | `; undefined when none applies. */
function evaluateRelation(
  text: string,
  options: DebianBuildDependsOptions,
  fail: () => BuildfleetError,
): string | undefined {
  const kept: string[] = [];
  for (const alternative of text.split('|')) {
    const match = ALTERNATIVE.exec(alternative.trim());
    if (match === null) throw fail();
    const [, name = '', operator, version, arches, profiles = ''] = match;
    if (arches !== undefined && options.arch !== undefined && !archMatches(arches, options.arch)) continue;
    if (!profilesMatch(profiles, options.profiles ?? [])) continue;
    kept.push(operator === undefined ? name : `${name} (${normaliseOperator(operator)} ${version ?? ''})`);
  }
  return kept.length === 0 ? undefined : kept.join(' | ');
}

/** `<` and `>` are obsolete spellings of `<=` and `>=` (deb-control(5)). */
function normaliseOperator(operator: string): string {
  return operator === '<' ? '<=' : operator === '>' ? '>=' : operator;
}

/** `[amd64 arm64]` keeps listed arches, `[!i386 !hurd-any]` drops them; wildcards: any, linux-any, any-<cpu>. */
function archMatches(list: string, arch: string): boolean {
  const terms = list.trim().split(/\s+/).filter(Boolean);
  const negated = terms.every((term) => term.startsWith('!'));
  const hit = terms.some((term) => archTermMatches(term.replace(/^!/, ''), arch));
  return negated ? !hit : hit;
}

function archTermMatches(term: string, arch: string): boolean {
  // buildfleet builds on Linux only, so an OS wildcard matches when its OS is linux.
  return term === arch || term === 'any' || term === 'linux-any' || term === `any-${arch}` || term === `linux-${arch}`;
}

/** `<!nocheck> <stage1 cross>`: satisfied when any <> term has all its literals true. */
function profilesMatch(terms: string, active: readonly string[]): boolean {
  const groups = [...terms.matchAll(/<([^>]*)>/g)].map((match) => (match[1] ?? '').trim().split(/\s+/).filter(Boolean));
  if (groups.length === 0) return true;
  return groups.some((literals) =>
    literals.every((literal) =>
      literal.startsWith('!') ? !active.includes(literal.slice(1)) : active.includes(literal),
    ),
  );
}

function unparsable(file: string, field: string, text: string): BuildfleetError {
  const shown = text.replace(/\s+/g, ' ').trim();
  const name = field.replace(/(^|-)([a-z])/g, (_all, dash: string, letter: string) => dash + letter.toUpperCase());
  return new BuildfleetError(
    'metadata-invalid',
    `${file}: field "${name}" has a relation that cannot be parsed: "${shown}"`,
    {
      context: { file, field: name, relation: shown },
    },
  );
}
