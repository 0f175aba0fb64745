import { BuildfleetError, toBuildfleetError } from '../../shared/errors/index.ts';
import { runCommand } from '../../shared/exec/index.ts';
import type { RpmPackage } from './rpm-plan.ts';

// SOURCERPM is empty exactly for source packages, whose ARCH tag names the build host instead.
const HEADER_FORMAT = '%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%|SOURCERPM?{binary}:{source}|\\n';
// rpm 4.18 signs the header only: RSAHEADER for RSA keys, DSAHEADER for DSA and EdDSA keys.
const SIGNATURE_FORMAT = '%|RSAHEADER?{%{RSAHEADER:pgpsig}}:{%|DSAHEADER?{%{DSAHEADER:pgpsig}}:{none}|}|\\n';

/** Reads name, epoch, version, release and arch from an rpm file's header (`src` for source rpms). */
export async function readRpmHeader(path: string, signal?: AbortSignal): Promise<RpmPackage> {
  const result = await queryRpm(path, HEADER_FORMAT, signal);
  const [name, epoch, version, release, arch, kind] = result.trimEnd().split('\t');
  if (name === undefined || version === undefined || release === undefined || arch === undefined) {
    throw new BuildfleetError('metadata-invalid', `${path}: unexpected rpm header output`, {
      context: { path, output: result },
    });
  }
  return {
    path,
    name,
    ...(epoch === undefined || epoch === '(none)' ? {} : { epoch: Number(epoch) }),
    version,
    release,
    arch: kind === 'source' ? 'src' : arch,
  };
}

/**
 * The key id (16 lower-case hex digits) of the header signature, or undefined for an
 * unsigned rpm. Used to skip re-signing files that the same key signed before.
 */
export async function readRpmSigningKeyId(path: string, signal?: AbortSignal): Promise<string | undefined> {
  const output = await queryRpm(path, SIGNATURE_FORMAT, signal);
  return /Key ID ([0-9a-f]{16})/i.exec(output)?.[1]?.toLowerCase();
}

async function queryRpm(path: string, format: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    // Signatures are not checked here: the host rpm database holds none of our keys.
    const result = await runCommand('rpm', ['-qp', '--nosignature', '--nodigest', '--queryformat', format, path], {
      signal,
      timeoutMs: 60_000,
    });
    return result.stdout;
  } catch (error) {
    const wrapped = toBuildfleetError(error);
    if (wrapped.code !== 'exec-failed') throw wrapped;
    throw new BuildfleetError('metadata-invalid', `${path}: not a readable rpm`, {
      cause: wrapped,
      context: { path },
    });
  }
}
