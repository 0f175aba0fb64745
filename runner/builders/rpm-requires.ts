/**
 * BuildRequires of a spec as Debian package relations. rpm dists build in a Debian buildroot
 * (rpm's database there knows no packages, so rpmbuild runs with --nodeps), hence every
 * BuildRequires must be installed as a Debian package. Pure; docs/builders.md lists the rules.
 *
 * - Version constraints are dropped: rpm and Debian version strings of the same software differ
 *   (epochs, revisions), so `zlib-devel >= 1.2` must not become `zlib1g-dev (>= 1.2)`.
 * - rpm's own build tooling (rpm-build, ...) is dropped: the dist's format packages bring rpm.
 * - Well-known rpm names that differ in Debian are renamed (RPM_TO_DEBIAN); `pkgconfig(x)` is
 *   looked up in PKGCONFIG_TO_DEBIAN and adds pkg-config.
 * - Rich dependencies are taken when they are a plain choice: `(a or b)` -> `a | b`.
 * - Any other name is passed on unchanged as a Debian package name (the buildroot names the
 *   ones apt does not know). What cannot be a Debian name at all (`perl(Foo)`, `/usr/bin/x`,
 *   `Foo-Bar`, an unexpanded macro, `(a and b)`) is returned as unmapped.
 */

/** rpm build tooling that a Debian buildroot gets from the dist's format packages (`rpm`). */
const DROPPED = new Set(['rpm', 'rpm-build', 'rpmbuild', 'redhat-rpm-config', 'perl-generators']);

/** rpm package names (Fedora/openSUSE spelling) whose Debian package has another name. */
const RPM_TO_DEBIAN: Readonly<Record<string, string>> = {
  'gcc-c++': 'g++',
  'libstdc++-devel': 'g++',
  'glibc-devel': 'libc6-dev',
  'glibc-static': 'libc6-dev',
  pkgconfig: 'pkg-config',
  pkgconf: 'pkg-config',
  'pkgconf-pkg-config': 'pkg-config',
  'perl-interpreter': 'perl',
  'perl-devel': 'perl',
  'python3-devel': 'python3-dev',
  'zlib-devel': 'zlib1g-dev',
  'popt-devel': 'libpopt-dev',
  'openssl-devel': 'libssl-dev',
  'libopenssl-devel': 'libssl-dev',
  'ncurses-devel': 'libncurses-dev',
  'libcurl-devel': 'libcurl4-openssl-dev',
  'glib2-devel': 'libglib2.0-dev',
  'systemd-devel': 'libsystemd-dev',
  'libuuid-devel': 'uuid-dev',
  'bzip2-devel': 'libbz2-dev',
  'xz-devel': 'liblzma-dev',
  'expat-devel': 'libexpat1-dev',
  'libxml2-devel': 'libxml2-dev',
};

/** pkg-config module names (`pkgconfig(zlib)`) and the Debian -dev package that has the .pc file. */
const PKGCONFIG_TO_DEBIAN: Readonly<Record<string, string>> = {
  zlib: 'zlib1g-dev',
  popt: 'libpopt-dev',
  openssl: 'libssl-dev',
  libssl: 'libssl-dev',
  libcrypto: 'libssl-dev',
  'glib-2.0': 'libglib2.0-dev',
  'gobject-2.0': 'libglib2.0-dev',
  'gio-2.0': 'libglib2.0-dev',
  libcurl: 'libcurl4-openssl-dev',
  ncurses: 'libncurses-dev',
  ncursesw: 'libncurses-dev',
  libsystemd: 'libsystemd-dev',
  uuid: 'uuid-dev',
  'libxml-2.0': 'libxml2-dev',
  expat: 'libexpat1-dev',
  liblzma: 'liblzma-dev',
  bzip2: 'libbz2-dev',
  python3: 'python3-dev',
};

const DEBIAN_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const VERSIONED = /^(\S+)\s+(?:<|<=|=|>=|>)\s+\S+$/;
const PKGCONFIG = /^pkgconfig\(([^()\s]+)\)$/;
/** Rich dependency operators other than `or`, which have no Debian relation equivalent. */
const UNSUPPORTED_RICH = /\s(and|if|else|with|without|unless)\s/;

export interface MappedBuildRequires {
  /** Debian relations, in the spec's order, without duplicates. */
  relations: string[];
  /** Requirements that have no Debian package name, as the spec wrote them. */
  unmapped: string[];
}

/** Maps the output of rpmBuildRequires(); see the module comment for the rules. */
export function debianRelationsForBuildRequires(requirements: readonly string[]): MappedBuildRequires {
  const relations: string[] = [];
  const unmapped: string[] = [];
  const add = (relation: string): void => {
    if (!relations.includes(relation)) relations.push(relation);
  };
  for (const requirement of requirements) {
    const mapped = mapRequirement(requirement.trim());
    if (mapped === undefined) unmapped.push(requirement);
    else mapped.forEach(add);
  }
  return { relations, unmapped };
}

/** The relations one requirement needs ([] when dropped), or undefined when it has no Debian name. */
function mapRequirement(requirement: string): string[] | undefined {
  if (requirement.startsWith('(')) return mapRichChoice(requirement);
  const name = VERSIONED.exec(requirement)?.[1] ?? requirement;
  const module = PKGCONFIG.exec(name)?.[1];
  if (module !== undefined) {
    const dev = PKGCONFIG_TO_DEBIAN[module];
    return dev === undefined ? undefined : ['pkg-config', dev];
  }
  if (DROPPED.has(name)) return [];
  const debian = RPM_TO_DEBIAN[name] ?? name;
  return DEBIAN_NAME.test(debian) ? [debian] : undefined;
}

/**
 * `(a or b >= 2 or pkgconfig(zlib))` -> `a | b | zlib1g-dev` (inside a choice, pkgconfig() adds no
 * pkg-config). Nested choices and the other rich operators have no Debian equivalent.
 */
function mapRichChoice(requirement: string): string[] | undefined {
  const inner = /^\((.*)\)$/.exec(requirement)?.[1];
  if (inner === undefined || UNSUPPORTED_RICH.test(` ${inner} `)) return undefined;
  const alternatives: string[] = [];
  for (const part of inner.trim().split(/\s+or\s+/)) {
    const mapped = mapRequirement(part.trim());
    if (mapped === undefined) return undefined;
    // A dropped alternative (rpm tooling) is there anyway, so the whole choice is satisfied.
    if (mapped.length === 0) return [];
    const provider = mapped[mapped.length - 1];
    if (provider !== undefined && !alternatives.includes(provider)) alternatives.push(provider);
  }
  return alternatives.length === 0 ? undefined : [alternatives.join(' | ')];
}
