import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { AptBinaryPackage, AptSourcePackage } from './apt-plan.ts';

/** Fields of a deb822 paragraph (control file, .dsc), continuation lines kept in the value. */
function parseControlParagraph(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (fields.size > 0) break;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && current !== undefined) {
      fields.set(current, `${fields.get(current) ?? ''}\n${line}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current = line.slice(0, colon);
    fields.set(current, line.slice(colon + 1).trim());
  }
  return fields;
}

/** Name, version, architecture and source of a .deb, read with `dpkg-deb -f`. */
export async function readDebPackage(debPath: string, signal?: AbortSignal): Promise<AptBinaryPackage> {
  const result = await runCommand('dpkg-deb', ['-f', debPath, 'Package', 'Version', 'Architecture', 'Source'], {
    signal,
    timeoutMs: 60_000,
  }).catch((error: unknown) => {
    throw new BuildfleetError('publish-failed', `${debPath}: not a readable .deb`, {
      cause: error,
      context: { debPath },
    });
  });
  const fields = parseControlParagraph(result.stdout);
  const name = fields.get('Package');
  const version = fields.get('Version');
  const arch = fields.get('Architecture');
  if (name === undefined || version === undefined || arch === undefined) {
    throw new BuildfleetError('publish-failed', `${debPath}: control file lacks Package, Version or Architecture`, {
      context: { debPath },
    });
  }
  // Source may carry the source version in parentheses when it differs: `hello (1.0-1)`.
  const source = fields.get('Source')?.split(' ')[0];
  return { path: debPath, name, version, arch, ...(source === undefined || source === '' ? {} : { source }) };
}

/** A source package from its .dsc: the files it lists must lie beside it. */
export async function readSourcePackage(dscPath: string): Promise<AptSourcePackage> {
  const text = await readFile(dscPath, 'utf8').catch((error: unknown) => {
    throw new BuildfleetError('publish-failed', `${dscPath}: cannot be read`, { cause: error, context: { dscPath } });
  });
  // A signed .dsc wraps the paragraph in an OpenPGP armor; the fields start after the first blank line.
  const body = text.startsWith('-----BEGIN PGP SIGNED MESSAGE-----') ? text.slice(text.indexOf('\n\n') + 2) : text;
  const fields = parseControlParagraph(body);
  const name = fields.get('Source');
  const version = fields.get('Version');
  const listed = (fields.get('Checksums-Sha256') ?? fields.get('Files') ?? '')
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[2])
    .filter((file): file is string => file !== undefined && file !== '');
  if (name === undefined || version === undefined || listed.length === 0) {
    throw new BuildfleetError('publish-failed', `${dscPath}: lacks Source, Version or its file list`, {
      context: { dscPath },
    });
  }
  return { dscPath, name, version, files: listed.map((file) => path.join(path.dirname(dscPath), file)) };
}
