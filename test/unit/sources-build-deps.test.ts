import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { debianArchOf, debianBuildDepends, rpmBuildRequires } from '../../shared/sources/index.ts';

const CONTROL = `# comment lines are allowed in debian/control
Source: hello
Section: devel
Priority: optional
Maintainer: Someone <someone@example.com>
Build-Depends: debhelper-compat (= 13),
 libfoo-dev (>= 1.2~rc1) | libfoo2-dev,
# a comment inside the field
 pkg-config,
 libamd64-only-dev [amd64],
 libnot-i386 [!i386 !hurd-any],
 libarm-dev [any-arm64],
 check <!nocheck>,
 python3:any,
 cross-tool <cross>,
 libold(<<2.0),
 legacy (> 1)
Build-Depends-Arch: gcc-multilib [amd64 i386]
Build-Depends-Indep: python3-sphinx <!nodoc>,
 pkg-config
Standards-Version: 4.6.2

Package: hello
Architecture: any
Depends: \${shlibs:Depends}
Description: greets
`;

describe('debianBuildDepends', () => {
  it('evaluates Build-Depends, -Arch and -Indep for an arch and the default profiles', () => {
    assert.deepEqual(debianBuildDepends(CONTROL, { arch: 'amd64' }), [
      'debhelper-compat (= 13)',
      'libfoo-dev (>= 1.2~rc1) | libfoo2-dev',
      'pkg-config',
      'libamd64-only-dev',
      'libnot-i386',
      'check',
      'python3:any',
      'libold (<< 2.0)',
      'legacy (>= 1)',
      'gcc-multilib',
      'python3-sphinx',
    ]);
  });

  it('drops what other arches and active profiles exclude', () => {
    const arm = debianBuildDepends(CONTROL, { arch: 'arm64', profiles: ['nocheck', 'nodoc', 'cross'], indep: false });
    assert.ok(!arm.includes('libamd64-only-dev'));
    assert.ok(arm.includes('libarm-dev'));
    assert.ok(arm.includes('libnot-i386'));
    assert.ok(!arm.includes('check'), 'nocheck drops <!nocheck>');
    assert.ok(arm.includes('cross-tool'), '<cross> applies when cross is active');
    assert.ok(!arm.includes('gcc-multilib'));
    assert.ok(!arm.includes('python3-sphinx'), 'indep: false leaves Build-Depends-Indep out');
    const i386 = debianBuildDepends(CONTROL, { arch: 'i386' });
    assert.ok(!i386.includes('libnot-i386'));
    assert.ok(i386.includes('gcc-multilib'));
  });

  it('keeps arch-restricted relations when no arch is given, without the restriction', () => {
    const all = debianBuildDepends(CONTROL);
    assert.ok(all.includes('libamd64-only-dev'));
    assert.ok(all.includes('libarm-dev'));
    assert.ok(all.every((relation) => !relation.includes('[') && !relation.includes('<!')));
  });

  it('reads the Build-Depends of a signed .dsc', () => {
    const dsc = `-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Format: 3.0 (quilt)
Source: hello
Build-Depends: debhelper-compat (= 13), autoconf
Files:
 0123 45 hello_1.0.orig.tar.gz

-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEE
-----END PGP SIGNATURE-----
`;
    assert.deepEqual(debianBuildDepends(dsc, { file: 'hello_1.0-1.dsc' }), ['debhelper-compat (= 13)', 'autoconf']);
  });

  it('returns nothing without Build-Depends and fails on a relation it cannot read, naming the field', () => {
    assert.deepEqual(debianBuildDepends('Source: x\n'), []);
    assert.deepEqual(debianBuildDepends(''), []);
    assert.throws(
      () => debianBuildDepends('Source: x\nBuild-Depends: ok, bad (>= 1\n', { file: 'projects/a/debian/control' }),
      (error: unknown) =>
        isBuildfleetError(error, 'metadata-invalid') &&
        error.message ===
          'projects/a/debian/control: field "Build-Depends" has a relation that cannot be parsed: "bad (>= 1"',
    );
  });

  it('maps buildfleet arch names to Debian ones', () => {
    assert.equal(debianArchOf('x86_64'), 'amd64');
    assert.equal(debianArchOf('aarch64'), 'arm64');
    assert.equal(debianArchOf('ppc64le'), 'ppc64el');
    assert.equal(debianArchOf('mips64el'), 'mips64el');
  });
});

describe('rpmBuildRequires', () => {
  it('reads comma and space separated requirements with versions', () => {
    const spec = `%global somever 2.4
Name:           hello
Version:        1.0
Release:        1%{?dist}
Summary:        greets
License:        MIT
BuildRequires:  gcc, make >= 4.0
BuildRequires:  pkgconfig(glib-2.0) >= 2.56 perl(Foo::Bar)
buildrequires:  autoconf automake
BuildRequires:  libfoo-devel%{?_isa} = %{version}-%{release}
BuildRequires:  (python3-foo or python3-bar)
BuildRequires:  %{name}-data >= %{somever}
BuildRequires:  glued>=1.2, gcc
Requires:       not-a-build-requirement

%description
BuildRequires: inside-description-still-counts

%prep
%autosetup
`;
    assert.deepEqual(rpmBuildRequires(spec), [
      'gcc',
      'make >= 4.0',
      'pkgconfig(glib-2.0) >= 2.56',
      'perl(Foo::Bar)',
      'autoconf',
      'automake',
      'libfoo-devel = 1.0-1',
      '(python3-foo or python3-bar)',
      'hello-data >= 2.4',
      'glued >= 1.2',
      'inside-description-still-counts',
    ]);
  });

  it('reads every BuildRequires line, conditionals included, and leaves unknown macros as written', () => {
    const spec = `Name: x
%if 0%{?fedora}
BuildRequires: fedora-only
%else
BuildRequires: other
%endif
BuildRequires: %{python3_pkgversion}-devel
`;
    assert.deepEqual(rpmBuildRequires(spec), ['fedora-only', 'other', '%{python3_pkgversion}-devel']);
    assert.deepEqual(rpmBuildRequires('Name: x\n'), []);
  });
});
