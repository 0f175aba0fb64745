/**
 * BuildRequires of an rpm spec file, without rpm: on a Debian buildroot rpm's database
 * does not know the installed packages (TOOLING.md), so the runner checks BuildRequires
 * itself and needs them as a list. Each entry is one requirement as rpm writes it:
 * `gcc`, `make >= 4.0`, `pkgconfig(glib-2.0)`, `(python3-foo or python3-bar)`.
 *
 * Limits, documented in docs/sources.md: %if/%endif blocks are not evaluated (every
 * BuildRequires line counts), and macros are expanded only when simple: %{name}, %{version},
 * %{release} and %global/%define values without arguments; `%{?x}` of an undefined macro
 * becomes empty; other macros stay as written. `rpmspec -q --buildrequires` is exact where rpm runs.
 */

const OPERATORS = new Set(['<', '<=', '=', '==', '>=', '>']);

export function rpmBuildRequires(specText: string): string[] {
  const lines = joinContinuations(specText);
  const macros = simpleMacros(lines);
  const requirements: string[] = [];
  for (const line of lines) {
    const match = /^\s*BuildRequires\s*(?:\([^)]*\))?\s*:(.*)$/i.exec(line);
    if (match === null) continue;
    for (const requirement of splitRequirements(expandMacros(match[1] ?? '', macros))) {
      if (!requirements.includes(requirement)) requirements.push(requirement);
    }
  }
  return requirements;
}

/** A line ending in a backslash goes on with the next one (used in long %global values). Also used by the graph (shared/sources/graph). */
export function joinContinuations(text: string): string[] {
  return text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
}

export function simpleMacros(lines: string[]): Map<string, string> {
  const macros = new Map<string, string>();
  for (const line of lines) {
    const tag = /^\s*(Name|Version|Release)\s*:\s*(\S+)\s*$/i.exec(line);
    if (tag !== null) macros.set((tag[1] ?? '').toLowerCase(), tag[2] ?? '');
    const defined = /^\s*%(?:global|define)\s+([A-Za-z_]\w*)\s+(.+?)\s*$/.exec(line);
    if (defined !== null) macros.set(defined[1] ?? '', defined[2] ?? '');
  }
  // Values may use other macros (Release: 1%{?dist}); a few rounds settle chains without risking loops.
  for (let round = 0; round < 5; round++) {
    for (const [name, value] of macros) macros.set(name, expandMacros(value, macros));
  }
  return macros;
}

export function expandMacros(text: string, macros: ReadonlyMap<string, string>): string {
  return text
    .replace(/%\{\?([A-Za-z_]\w*)\}/g, (_all, name: string) => macros.get(name) ?? '')
    .replace(/%\{([A-Za-z_]\w*)\}/g, (all, name: string) => macros.get(name) ?? all)
    .replace(/%([A-Za-z_]\w*)/g, (all, name: string) => macros.get(name) ?? all);
}

/**
 * Splits a BuildRequires value at commas and blanks, keeping together what belongs
 * together: `name op version` triples, and anything inside parentheses or braces
 * (`pkgconfig(x)`, rich dependencies `(a or b)`, `%{...}`).
 */
export function splitRequirements(value: string): string[] {
  const tokens = tokenize(value);
  const requirements: string[] = [];
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] ?? '';
    const operator = tokens[index + 1];
    const version = tokens[index + 2];
    if (operator !== undefined && OPERATORS.has(operator) && version !== undefined) {
      requirements.push(`${token} ${operator === '==' ? '=' : operator} ${version}`);
      index += 2;
    } else if (!OPERATORS.has(token)) {
      requirements.push(token);
    }
  }
  return requirements;
}

function tokenize(value: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let depth = 0;
  for (const char of value) {
    if (char === '(' || char === '{') depth++;
    if (char === ')' || char === '}') depth = Math.max(0, depth - 1);
    if (depth === 0 && (char === ',' || /\s/.test(char))) {
      if (current !== '') tokens.push(...splitGluedOperator(current));
      current = '';
      continue;
    }
    current += char;
  }
  if (current !== '') tokens.push(...splitGluedOperator(current));
  return tokens;
}

/** `foo>=1.0` -> ['foo', '>=', '1.0']; parenthesised names (`perl(Foo)>=1`) and rich dependencies are left alone. */
function splitGluedOperator(token: string): string[] {
  const match = /^([^<>=(){}\s]+)(<=|>=|==|=|<|>)([^<>=]+)$/.exec(token);
  return match === null ? [token] : [match[1] ?? '', match[2] ?? '', match[3] ?? ''];
}
