/**
 * Which of buildfleet's own published rpms an rpm dist's buildroot installs, without I/O: the
 * BuildRequires that one of our rpms provides (by name or `Provides:`, versioned requirements
 * honoured with rpm version comparison), then, recursively, their `Requires:` that our rpms
 * provide. Read from the repository's primary.xml (as createrepo_c writes it).
 */
import { compareEvr, type Evr } from '../../shared/versions/index.ts';
import type { OwnPackage } from './own-packages.ts';

/** One rpm of our repositories; `version` is `[epoch:]version-release`. */
export interface OwnRpm extends Omit<OwnPackage, 'provides' | 'depends'> {
  evr: Evr;
  provides: RpmRelation[];
  requires: RpmRelation[];
}

/** A provide or require: a name with an optional comparison. */
export interface RpmRelation {
  name: string;
  flags?: 'EQ' | 'LT' | 'LE' | 'GT' | 'GE';
  evr?: Evr;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e] ?? '');

function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of tag.matchAll(/([A-Za-z:_-]+)="([^"]*)"/g)) {
    if (match[1] !== undefined && match[2] !== undefined) found[match[1]] = unescape(match[2]);
  }
  return found;
}

function evrOf(attrs: Record<string, string>): Evr | undefined {
  if (attrs['ver'] === undefined) return undefined;
  return { epoch: Number(attrs['epoch'] ?? 0), version: attrs['ver'], release: attrs['rel'] ?? '' };
}

function entries(block: string | undefined): RpmRelation[] {
  if (block === undefined) return [];
  return [...block.matchAll(/<rpm:entry\s[^>]*\/>/g)].map((match) => {
    const attrs = attributes(match[0]);
    const evr = evrOf(attrs);
    const flags = attrs['flags'] as RpmRelation['flags'];
    return { name: attrs['name'] ?? '', ...(flags === undefined || evr === undefined ? {} : { flags, evr }) };
  });
}

/** The packages of a primary.xml (createrepo_c's layout; source rpms left out). */
export function ownRpmsFromPrimary(
  xml: string,
  repoKey: string,
  buildOf: Readonly<Record<string, string>> = {},
): OwnRpm[] {
  const rpms: OwnRpm[] = [];
  for (const match of xml.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)) {
    const body = match[1] ?? '';
    const text = (tag: string): string | undefined => {
      const found = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(body)?.[1];
      return found === undefined ? undefined : unescape(found);
    };
    const name = text('name');
    const arch = text('arch');
    const evr = evrOf(attributes(/<version\s[^>]*\/>/.exec(body)?.[0] ?? ''));
    const sha256 = /<checksum type="sha256"[^>]*>([0-9a-f]{64})<\/checksum>/.exec(body)?.[1];
    const filename = attributes(/<location\s[^>]*\/>/.exec(body)?.[0] ?? '')['href'];
    if (name === undefined || arch === undefined || evr === undefined || sha256 === undefined || !filename) continue;
    if (arch === 'src') continue;
    const size = Number(attributes(/<size\s[^>]*\/>/.exec(body)?.[0] ?? '')['package'] ?? 0);
    const buildId = buildOf[filename];
    rpms.push({
      name,
      arch,
      evr,
      version: `${evr.epoch ? `${evr.epoch}:` : ''}${evr.version}-${evr.release}`,
      provides: entries(/<rpm:provides>([\s\S]*?)<\/rpm:provides>/.exec(body)?.[1]),
      requires: entries(/<rpm:requires>([\s\S]*?)<\/rpm:requires>/.exec(body)?.[1]),
      filename,
      sha256,
      size,
      repoKey,
      ...(buildId === undefined ? {} : { buildId }),
    });
  }
  return rpms;
}

const OPERATORS: Record<string, NonNullable<RpmRelation['flags']>> = {
  '=': 'EQ',
  '==': 'EQ',
  '<': 'LT',
  '<=': 'LE',
  '>': 'GT',
  '>=': 'GE',
};

/** `name`, or `name op [epoch:]version[-release]` as a spec's BuildRequires writes it. */
export function parseRpmRequirement(requirement: string): RpmRelation | undefined {
  const match = /^(\S+)(?:\s+(=|==|<|<=|>|>=)\s+(\S+))?$/.exec(requirement.trim());
  if (match?.[1] === undefined) return undefined;
  if (match[2] === undefined || match[3] === undefined) return { name: match[1] };
  const [, epoch, version = '', release] = /^(?:(\d+):)?([^-]+)(?:-(.+))?$/.exec(match[3]) ?? [];
  return {
    name: match[1],
    flags: OPERATORS[match[2]] ?? 'EQ',
    evr: { epoch: Number(epoch ?? 0), version, release: release ?? '' },
  };
}

/**
 * rpm's range check for one provide against one requirement: releases are compared only when
 * both sides have one (`foo >= 1.0` is met by `foo = 1.0-1`).
 */
function rangeMet(provided: RpmRelation, wanted: RpmRelation): boolean {
  if (wanted.flags === undefined || wanted.evr === undefined) return true;
  if (provided.flags === undefined || provided.evr === undefined) return true; // unversioned provide: any
  const a = provided.evr;
  const b = wanted.evr;
  const order =
    b.release === '' || a.release === '' ? compareEvr({ ...a, release: '' }, { ...b, release: '' }) : compareEvr(a, b);
  switch (wanted.flags) {
    case 'EQ':
      return order === 0;
    case 'LT':
      return order < 0;
    case 'LE':
      return order <= 0;
    case 'GT':
      return order > 0;
    case 'GE':
      return order >= 0;
    default: {
      const never: never = wanted.flags;
      return Boolean(never);
    }
  }
}

function provides(rpm: OwnRpm, wanted: RpmRelation): boolean {
  const own: RpmRelation = { name: rpm.name, flags: 'EQ', evr: rpm.evr };
  return [own, ...rpm.provides].some((p) => p.name === wanted.name && rangeMet(p, wanted));
}

export interface RpmResolution {
  /** Our rpms to install, sorted by name. */
  chosen: OwnRpm[];
  /** The BuildRequires (as written) that the chosen rpms satisfy: not installed as Debian packages. */
  satisfied: string[];
}

/** Resolves BuildRequires for rpm arch `arch` (noarch rpms too); see the module comment. */
export function resolveOwnRpms(requirements: readonly string[], rpms: readonly OwnRpm[], arch: string): RpmResolution {
  const usable = rpms.filter((rpm) => rpm.arch === arch || rpm.arch === 'noarch');
  const chosen = new Map<string, OwnRpm>();
  const satisfied: string[] = [];
  const take = (wanted: RpmRelation): boolean => {
    if ([...chosen.values()].some((rpm) => provides(rpm, wanted))) return true;
    const candidates = usable.filter((rpm) => !chosen.has(rpm.name) && provides(rpm, wanted));
    if (candidates.length === 0) return false;
    const best = candidates.reduce((a, b) => (compareEvr(b.evr, a.evr) > 0 ? b : a));
    chosen.set(best.name, best);
    for (const requirement of best.requires) take(requirement);
    return true;
  };
  for (const requirement of requirements) {
    const wanted = parseRpmRequirement(requirement);
    if (wanted !== undefined && take(wanted)) satisfied.push(requirement);
  }
  return { chosen: [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name)), satisfied };
}
