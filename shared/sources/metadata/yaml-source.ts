/**
 * A metadata file of the sources repo, parsed as YAML with its node positions kept, so that
 * every error can name the file (repo-relative), the field and the line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, isMap, isNode, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { BuildfleetError } from '../../errors/index.ts';

/** A field as a list of keys and indexes: ['targets', 0, 'arch']. */
export type FieldPath = readonly (string | number)[];

export interface YamlSource {
  /** Path relative to the sources repo, as shown in errors: `projects/demo/hello/buildfleet.yml`. */
  file: string;
  /** The plain data of the document (null for an empty file). */
  value: unknown;
  /** 1-based line of the field (its key when `part` is 'key'), or of the closest enclosing field present. */
  lineOf(path: FieldPath, part?: 'key' | 'value'): number | undefined;
}

/** Parses YAML text. @throws BuildfleetError('metadata-invalid') naming the file and line of a syntax error */
function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [syntaxError] = doc.errors;
  if (syntaxError !== undefined) {
    const line = lineCounter.linePos(syntaxError.pos[0]).line;
    throw metadataInvalid(file, `not valid YAML: ${firstLine(syntaxError.message)}`, { line });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw metadataInvalid(file, `not valid YAML: ${error instanceof Error ? error.message : String(error)}`, {});
  }
  return {
    file,
    value,
    lineOf: (path, part = 'value') => lineOfField(doc, lineCounter, path, part),
  };
}

/** Reads and parses `<repoDir>/<file>`; undefined when the file does not exist. */
export async function readYamlSource(repoDir: string, file: string): Promise<YamlSource | undefined> {
  let text: string;
  try {
    text = await readFile(join(repoDir, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  return parseYamlSource(file, text);
}

export interface MetadataProblem {
  /** The offending field; [] for the file as a whole. */
  path: FieldPath;
  /** Follows the field name: `must be a string`, `is required`. */
  reason: string;
  /** An unknown key is reported as such rather than as a field with a reason. */
  unknownKey?: boolean;
}

/**
 * `projects/demo/hello/buildfleet.yml line 4: field "targets[0].arch" must be a string`,
 * `... line 2: unknown key "kindd" (known keys: name, kind, ...)`, or `<file>: <reason>`.
 */
export function problemError(source: YamlSource, problem: MetadataProblem): BuildfleetError {
  const field = fieldText(problem.path);
  const line =
    problem.path.length === 0 ? undefined : source.lineOf(problem.path, problem.unknownKey ? 'key' : 'value');
  const what =
    problem.path.length === 0
      ? problem.reason
      : problem.unknownKey
        ? `unknown key "${field}"${problem.reason === '' ? '' : ` ${problem.reason}`}`
        : `field "${field}" ${problem.reason}`;
  return metadataInvalid(source.file, what, { line, field });
}

export function metadataInvalid(
  file: string,
  what: string,
  where: { line?: number | undefined; field?: string },
): BuildfleetError {
  const at = where.line === undefined ? '' : ` line ${where.line}`;
  return new BuildfleetError('metadata-invalid', `${file}${at}: ${what}`, {
    context: { file, ...(where.field === undefined ? {} : { field: where.field }), line: where.line ?? null },
  });
}

/** ['targets', 0, 'arch'] -> `targets[0].arch` */
function fieldText(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  }
  return text;
}

function lineOfField(doc: Document, lines: LineCounter, path: FieldPath, part: 'key' | 'value'): number | undefined {
  let node: unknown = doc.contents;
  // Where we are: the deepest key or item found so far (undefined while still at the root).
  let found: Node | undefined;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined || !isScalar(pair.key)) break;
      found = last && part === 'key' ? pair.key : isNode(pair.value) ? pair.value : pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (!isNode(item)) break;
      found = item;
      node = item;
    } else break;
  }
  const offset = found?.range?.[0];
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
