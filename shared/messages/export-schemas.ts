/**
 * Writes docs/schemas/<type>.json for every message (npm run schemas), or with --check
 * writes nothing and fails when a file is stale, missing or extra (npm run schemas:check).
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderSchemaFiles } from './json-schema.ts';

export const DEFAULT_SCHEMA_DIR = fileURLToPath(new URL('../../docs/schemas/', import.meta.url));

export interface SchemaExportOptions {
  /** @default docs/schemas of this checkout */
  dir?: string;
  /** Compare only; write and delete nothing. @default false */
  check?: boolean;
}

export interface SchemaExportResult {
  /** Files whose content differs from the schemas (rewritten unless checking). */
  stale: string[];
  /** Files that should exist and do not (written unless checking). */
  missing: string[];
  /** .json files no message produces (deleted unless checking). */
  extra: string[];
  /** True when the directory matched (check) or now matches (write). */
  upToDate: boolean;
}

export async function exportSchemas(options: SchemaExportOptions = {}): Promise<SchemaExportResult> {
  const dir = options.dir ?? DEFAULT_SCHEMA_DIR;
  const check = options.check ?? false;
  const expected = renderSchemaFiles();
  const present = await jsonFilesIn(dir);
  const stale: string[] = [];
  const missing: string[] = [];
  for (const [name, content] of expected) {
    if (!present.has(name)) missing.push(name);
    else if ((await readFile(path.join(dir, name), 'utf8')) !== content) stale.push(name);
  }
  const extra = [...present].filter((name) => !expected.has(name)).sort();
  const differs = stale.length + missing.length + extra.length > 0;
  if (!check && differs) {
    await mkdir(dir, { recursive: true });
    for (const name of [...stale, ...missing]) await writeFile(path.join(dir, name), expected.get(name) ?? '');
    for (const name of extra) await rm(path.join(dir, name));
  }
  return { stale, missing, extra, upToDate: check ? !differs : true };
}

async function jsonFilesIn(dir: string): Promise<Set<string>> {
  try {
    return new Set((await readdir(dir)).filter((name) => name.endsWith('.json')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
}

function report(result: SchemaExportResult, check: boolean, dir: string): string {
  const lines = [
    ...result.stale.map((name) => `stale: ${name}`),
    ...result.missing.map((name) => `missing: ${name}`),
    ...result.extra.map((name) => `extra: ${name}`),
  ];
  const where = path.relative(process.cwd(), dir) || dir;
  if (lines.length === 0) return `${where}: up to date`;
  if (check) return `${where} is out of date (run npm run schemas):\n${lines.join('\n')}`;
  return `${where}: updated\n${lines.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const result = await exportSchemas({ check });
  const text = report(result, check, DEFAULT_SCHEMA_DIR);
  if (result.upToDate) console.log(text);
  else console.error(text);
  return result.upToDate ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
