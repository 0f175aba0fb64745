/**
 * Pure parts of the kiwi builder: the kiwi-ng command lines, KIWI's error out of its log, the
 * kinds of the bundled result files, and the mount points a build may have left behind.
 */
import type { ArtifactKind } from '../../shared/messages/index.ts';
import { parseKiwiArgs, type KiwiArgs } from '../../shared/sources/index.ts';

/** Directories of one build's temp root (see kiwi-root.ts). */
export interface KiwiRootDirs {
  /** `--target-dir`: the image root (`build/image-root`) and the unbundled results. */
  target: string;
  /** `--temp-dir` and TMPDIR. */
  tmp: string;
  /** `--shared-cache-dir`: apt's lists and packages of this build only. */
  cache: string;
  /** GNUPGHOME: KIWI imports repository keys with gpg, which needs a writable home. */
  gnupg: string;
}

export interface KiwiBuildPlan {
  /** The description directory (the package's copy). */
  descriptionDir: string;
  /** The description file in it: `config.xml` or `<x>.kiwi`. */
  descriptionFile: string;
  profiles: readonly string[];
  /** The package's `kiwi.args` (checked when the package was loaded). */
  args: readonly string[];
  dirs: KiwiRootDirs;
}

/**
 * `kiwi-ng [global options] system build --description=… --target-dir=… [build options]`.
 * `--kiwi-file` picks the description file the package files chose, so kiwi-ng's own choice
 * (config.xml first) cannot differ from buildfleet's.
 * @throws TypeError when `args` fails parseKiwiArgs (loadPackage has already refused such a package)
 */
export function kiwiBuildArgs(plan: KiwiBuildPlan): string[] {
  const args = kiwiArgsOf(plan.args);
  return [
    ...plan.profiles.map((profile) => `--profile=${profile}`),
    ...args.global,
    `--kiwi-file=${plan.descriptionFile}`,
    `--shared-cache-dir=${plan.dirs.cache}`,
    `--temp-dir=${plan.dirs.tmp}`,
    'system',
    'build',
    `--description=${plan.descriptionDir}`,
    `--target-dir=${plan.dirs.target}`,
    ...args.build,
  ];
}

function kiwiArgsOf(args: readonly string[]): KiwiArgs {
  const parsed = parseKiwiArgs(args);
  if ('reason' in parsed) throw new TypeError(`kiwi.args[${parsed.index}] ${parsed.reason}`);
  return parsed;
}

/**
 * `kiwi-ng result bundle`: copies the results named in kiwi.result to `bundleDir` with `id` in
 * their names, xz-compresses the ones KIWI marks for it, and writes a `.sha256` beside each image.
 */
export function kiwiBundleArgs(options: { targetDir: string; bundleDir: string; id: string }): string[] {
  return [
    'result',
    'bundle',
    `--target-dir=${options.targetDir}`,
    `--id=${options.id}`,
    `--bundle-dir=${options.bundleDir}`,
  ];
}

/** The bundle id in the file names: the commit's first 12 digits, the same for every attempt. */
export function kiwiBundleId(build: { commit: string } | undefined): string {
  return build === undefined ? 'local' : build.commit.slice(0, 12);
}

/** Lines of kiwi-ng's log kept for finding its error (the error is close to the end). */
export const KIWI_TAIL_LINES = 200;
/** At most this much of KIWI's error goes into the failure message. */
const ERROR_MAX_CHARS = 2000;
/** `[ ERROR   ]: 09:14:14 | KiwiInstallPhaseFailed: …` (the time is missing on some lines). */
const LEVEL_LINE = /^\[ (DEBUG|INFO|WARNING|ERROR|CRITICAL) *\]: (?:\d\d:\d\d:\d\d \| )?/;

/**
 * What a terminal would show of a line: KIWI draws its progress bars with carriage returns, so
 * a line holds several states of the bar; the last one counts.
 */
export function displayedLine(raw: string): string {
  const parts = raw.split('\r').filter((part) => part !== '');
  return (parts.at(-1) ?? '').trimEnd();
}

/**
 * KIWI's reason for a failed build: the text of the first `[ ERROR ]` line of the log tail and
 * the lines that continue it (a multi-line message, or the traceback of an unexpected error),
 * up to the next log line. Undefined when the tail has no error line.
 */
export function kiwiErrorOf(lines: readonly string[]): string | undefined {
  const start = lines.findIndex((line) => LEVEL_LINE.exec(line)?.[1] === 'ERROR');
  if (start === -1) return undefined;
  const first = (lines[start] ?? '').replace(LEVEL_LINE, '').trim();
  const more: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (LEVEL_LINE.test(line)) break;
    if (line.trim() !== '') more.push(line.trim());
  }
  const text = [first, ...more].join('\n');
  return text.length > ERROR_MAX_CHARS ? `${text.slice(0, ERROR_MAX_CHARS)}…` : text;
}

/**
 * The kind of a bundled result file: an image is what KIWI wrote a checksum for
 * (`<image>.sha256` beside it); its checksum, `.packages`, `.verified` and `.changes` are `other`.
 */
export function kiwiArtifactKindOf(name: string, names: ReadonlySet<string>): ArtifactKind {
  return names.has(`${name}.sha256`) ? 'image' : 'other';
}

/** Host arch (Node's process.arch) as buildfleet and KIWI name it (`uname -m`). */
export function unameArchOf(nodeArch: string): string {
  const names: Record<string, string> = {
    x64: 'x86_64',
    arm64: 'aarch64',
    ia32: 'i686',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return names[nodeArch] ?? nodeArch;
}

/**
 * Mount points at or below `root` in /proc/self/mountinfo text (field 5, octal escapes
 * decoded), deepest first: what must be unmounted before the directory may be removed.
 */
export function mountPointsUnder(mountinfo: string, root: string): string[] {
  const prefix = root.replace(/\/+$/, '');
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === prefix || point.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}
