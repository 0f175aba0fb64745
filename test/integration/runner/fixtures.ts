/** Small packages for runner tests, written into a test sources repo next to the examples. */

/** A minimal native Debian package whose build runs `buildCommand` (a shell line) in dh_auto_build. */
export function debPackage(name: string, buildCommand: string): Record<string, string> {
  const dir = `projects/test/${name}`;
  return {
    [`${dir}/buildfleet.yml`]: `kind: deb\ntargets:\n  - { dist: bookworm, arch: x86_64 }\n`,
    [`${dir}/debian/source/format`]: '3.0 (native)\n',
    [`${dir}/debian/changelog`]: [
      `${name} (1.0) unstable; urgency=medium`,
      '',
      '  * Test package.',
      '',
      ' -- buildfleet tests <test@buildfleet.invalid>  Sun, 22 Nov 2026 00:00:00 +0000',
      '',
    ].join('\n'),
    [`${dir}/debian/control`]: [
      `Source: ${name}`,
      'Section: misc',
      'Priority: optional',
      'Maintainer: buildfleet tests <test@buildfleet.invalid>',
      'Build-Depends: debhelper-compat (= 13)',
      'Standards-Version: 4.6.2',
      '',
      `Package: ${name}`,
      'Architecture: all',
      'Description: buildfleet test package',
      ' Used by the runner tests.',
      '',
    ].join('\n'),
    [`${dir}/debian/rules`]: [
      '#!/usr/bin/make -f',
      '%:',
      '\tdh $@',
      '',
      'override_dh_auto_build:',
      `\t${buildCommand}`,
      '',
    ].join('\n'),
    [`${dir}/README`]: `${name}\n`,
  };
}
