/**
 * The kiwi kind without running kiwi-ng: kiwi.args checks, the command lines, KIWI's error out
 * of a real log, result kinds, mount points, and the metadata of the example description.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  builderFor,
  collectKiwiArtifacts,
  displayedLine,
  isBuilderKind,
  kiwiArtifactKindOf,
  kiwiBuildArgs,
  kiwiBundleArgs,
  kiwiBundleId,
  kiwiErrorOf,
  mountPointsUnder,
  unameArchOf,
} from '../../runner/builders/index.ts';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { loadPackage, parseKiwiArgs } from '../../shared/sources/index.ts';
import { freshTrees, suiteTempDir } from '../harness/temp-files.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/sources', import.meta.url));

const DIRS = { target: '/t/target', tmp: '/t/tmp', cache: '/t/cache', gnupg: '/t/gnupg' };

describe('kiwi.args', () => {
  it('splits allowed options into global and build options, in the --name=value form', () => {
    assert.deepEqual(
      parseKiwiArgs(['--type', 'oci', '--add-package=vim', '--clear-cache', '--profile=Live', '--debug']),
      { global: ['--type=oci', '--profile=Live', '--debug'], build: ['--add-package=vim', '--clear-cache'] },
    );
    assert.deepEqual(parseKiwiArgs([]), { global: [], build: [] });
  });

  it('refuses options the runner sets, options reading host files, and malformed items', () => {
    const cases: [string[], number, RegExp][] = [
      [
        ['--target-dir=/etc'],
        0,
        /is "--target-dir=\/etc", which is not a kiwi-ng option a package may set \(allowed: --type, /,
      ],
      [['--type=oci', '--description', 'x'], 1, /"--description", which is not/],
      [['--signing-key=/root/key.asc'], 0, /"--signing-key=\/root\/key.asc", which is not/],
      [['--config=/etc/kiwi.yml'], 0, /"--config=\/etc\/kiwi.yml", which is not/],
      [['oci'], 0, /"oci", which is not an option/],
      [['--type'], 0, /--type without its value/],
      [['--type', '--debug'], 0, /--type without its value/],
      [['--type='], 0, /--type with an empty value/],
      [['--clear-cache=yes'], 0, /--clear-cache takes no value/],
    ];
    for (const [args, index, reason] of cases) {
      const problem = parseKiwiArgs(args);
      assert.ok('reason' in problem, `${args.join(' ')} is refused`);
      assert.equal(problem.index, index, args.join(' '));
      assert.match(problem.reason, reason);
    }
  });
});

describe('kiwi-ng command lines', () => {
  it('puts profiles and global options before `system build`, build options after it', () => {
    const args = kiwiBuildArgs({
      descriptionDir: '/w/src',
      descriptionFile: 'appliance.kiwi',
      profiles: ['Live', 'Disk'],
      args: ['--type', 'oci', '--add-package', 'vim'],
      dirs: DIRS,
    });
    assert.deepEqual(args, [
      '--profile=Live',
      '--profile=Disk',
      '--type=oci',
      '--kiwi-file=appliance.kiwi',
      '--shared-cache-dir=/t/cache',
      '--temp-dir=/t/tmp',
      'system',
      'build',
      '--description=/w/src',
      '--target-dir=/t/target',
      '--add-package=vim',
    ]);
    assert.throws(
      () =>
        kiwiBuildArgs({ descriptionDir: '/w', descriptionFile: 'config.xml', profiles: [], args: ['-x'], dirs: DIRS }),
      TypeError,
    );
  });

  it('bundles into the output directory with the commit as the id', () => {
    const id = kiwiBundleId({ commit: '0123456789abcdef0123456789abcdef01234567' });
    assert.equal(id, '0123456789ab');
    assert.equal(kiwiBundleId(undefined), 'local');
    assert.deepEqual(kiwiBundleArgs({ targetDir: '/t/target', bundleDir: '/w/out', id }), [
      'result',
      'bundle',
      '--target-dir=/t/target',
      '--id=0123456789ab',
      '--bundle-dir=/w/out',
    ]);
  });
});

describe("KIWI's log", () => {
  it('shows the last state of a progress bar drawn with carriage returns', () => {
    assert.equal(
      displayedLine('\r[ INFO    ]: Processing: [    ] 0%\r[ INFO    ]: Processing: [####] 100%\r'),
      '[ INFO    ]: Processing: [####] 100%',
    );
    assert.equal(displayedLine('plain line  '), 'plain line');
    assert.equal(displayedLine('\r'), '');
  });

  it('finds the error of a failed package installation (kiwi-ng 9.24 output)', () => {
    const log = [
      '[ INFO    ]: 09:14:11 | --> package: buildfleet-no-such-package',
      '[ INFO    ]: Processing: [########################################] 100%',
      '[ ERROR   ]: 09:14:14 | KiwiInstallPhaseFailed: System package installation failed: E: Unable to locate package buildfleet-no-such-package',
      '',
      '[ INFO    ]: 09:14:14 | Cleaning up SystemPrepare instance',
      '[ WARNING ]: 09:14:15 | Path /var/tmp/x/target/build/image-root not a mountpoint',
    ];
    assert.equal(
      kiwiErrorOf(log),
      'KiwiInstallPhaseFailed: System package installation failed: E: Unable to locate package buildfleet-no-such-package',
    );
  });

  it('keeps the lines that continue an error, up to the next log line, and nothing when there is none', () => {
    const log = [
      '[ ERROR   ]: 09:03:36 | Unexpected error:',
      'Traceback (most recent call last):',
      '  File "/usr/bin/kiwi-ng", line 33, in <module>',
      "FileNotFoundError: [Errno 2] No such file or directory: '/t/tmp/kiwi_xslt'",
      '[ INFO    ]: 09:03:37 | Cleaning up',
      '[ ERROR   ]: 09:03:37 | a later error',
    ];
    assert.equal(
      kiwiErrorOf(log),
      'Unexpected error:\nTraceback (most recent call last):\nFile "/usr/bin/kiwi-ng", line 33, in <module>\n' +
        "FileNotFoundError: [Errno 2] No such file or directory: '/t/tmp/kiwi_xslt'",
    );
    assert.equal(kiwiErrorOf(['[ INFO    ]: 09:00:00 | fine', 'ERROR: not KIWI']), undefined);
    assert.ok((kiwiErrorOf(['[ ERROR   ]: 09:00:00 | x', 'y'.repeat(5000)]) ?? '').length <= 2001);
  });
});

describe('kiwi results', () => {
  const dir = suiteTempDir('buildfleet-kiwi-unit-');

  it('calls an image what KIWI wrote a checksum for, and the rest other', async () => {
    const base = 'hello-kiwi.x86_64-1.0.0-0123456789ab';
    const names = ['.tar.xz', '.tar.xz.sha256', '.packages', '.verified', '.changes.xz'].map((ext) => base + ext);
    for (const name of names) await writeFile(join(dir.path, name), name);
    assert.equal(kiwiArtifactKindOf(`${base}.tar.xz`, new Set(names)), 'image');
    assert.deepEqual(
      (await collectKiwiArtifacts(dir.path)).map((file) => [file.name, file.kind]),
      [
        [`${base}.changes.xz`, 'other'],
        [`${base}.packages`, 'other'],
        [`${base}.tar.xz`, 'image'],
        [`${base}.tar.xz.sha256`, 'other'],
        [`${base}.verified`, 'other'],
      ],
    );
  });

  it('finds mount points at and below a directory, deepest first, with escaped spaces decoded', () => {
    const mountinfo = [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '90 22 0:5 / /var/tmp/buildfleet-kiwi-a/target/build/image-root/dev rw - devtmpfs udev rw',
      '91 90 0:6 / /var/tmp/buildfleet-kiwi-a/target/build/image-root/dev/pts rw - devpts devpts rw',
      '92 22 0:7 / /var/tmp/buildfleet-kiwi-a\\040b rw - tmpfs tmpfs rw',
      '93 22 0:8 / /var/tmp/buildfleet-kiwi-ab rw - tmpfs tmpfs rw',
      '',
    ].join('\n');
    assert.deepEqual(mountPointsUnder(mountinfo, '/var/tmp/buildfleet-kiwi-a/'), [
      '/var/tmp/buildfleet-kiwi-a/target/build/image-root/dev/pts',
      '/var/tmp/buildfleet-kiwi-a/target/build/image-root/dev',
    ]);
    assert.deepEqual(mountPointsUnder(mountinfo, '/var/tmp/buildfleet-kiwi-a b'), ['/var/tmp/buildfleet-kiwi-a b']);
    assert.deepEqual(mountPointsUnder(mountinfo, '/srv'), []);
  });

  it('names the host arch as uname -m does', () => {
    assert.equal(unameArchOf('x64'), 'x86_64');
    assert.equal(unameArchOf('arm64'), 'aarch64');
    assert.equal(unameArchOf('riscv64'), 'riscv64');
  });
});

describe('kiwi packages', () => {
  const repoWith = freshTrees(suiteTempDir('buildfleet-kiwi-pkg-'), {
    'dists/bookworm.yml':
      'format: deb\nbase:\n  bootstrap: { tool: mmdebstrap, suite: bookworm, mirror: http://deb.debian.org/debian }\n',
  });

  it('loads the example description: kind kiwi inferred from config.xml', async () => {
    const pkg = await loadPackage({ repoDir: EXAMPLES, packageDir: 'projects/images/hello-kiwi' });
    assert.equal(pkg.kind, 'kiwi');
    assert.equal(pkg.files.kiwiDescription, 'config.xml');
    assert.deepEqual(pkg.kiwi, { profiles: [], args: [] });
    assert.deepEqual(pkg.targets, [{ dist: 'bookworm', arch: 'x86_64', runnerGroup: 'default' }]);
  });

  it('names file, line and item of a kiwi.args the runner cannot pass, and a kiwi section on another kind', async () => {
    const bad = await repoWith({
      'projects/i/x/config.xml': '<image/>',
      'projects/i/x/buildfleet.yml':
        'targets: [{ dist: bookworm, arch: x86_64 }]\nkiwi:\n  args:\n    - --type=oci\n    - --target-dir=/etc\n',
    });
    await assert.rejects(loadPackage({ repoDir: bad, packageDir: 'projects/i/x' }), (error: unknown) => {
      assert.ok(isBuildfleetError(error, 'metadata-invalid'));
      assert.match(
        error.message,
        /^projects\/i\/x\/buildfleet\.yml line 5: field "kiwi\.args\[1\]" is "--target-dir=\/etc", which is not/,
      );
      return true;
    });
    const deb = await repoWith({
      'projects/d/x/debian/control': 'Source: x\n',
      'projects/d/x/buildfleet.yml': 'targets: [{ dist: bookworm, arch: x86_64 }]\nkiwi: { profiles: [Live] }\n',
    });
    await assert.rejects(loadPackage({ repoDir: deb, packageDir: 'projects/d/x' }), (error: unknown) => {
      assert.ok(isBuildfleetError(error, 'metadata-invalid'));
      assert.match(error.message, /field "kiwi" is for kind kiwi only; this package is deb/);
      return true;
    });
  });

  it('has a builder that prepares no buildroot and needs no build dependencies', async () => {
    assert.ok(isBuilderKind('kiwi'));
    const builder = builderFor('kiwi');
    assert.equal(builder.kind, 'kiwi');
    assert.equal(builder.needsBuildroot, false);
    const pkg = await loadPackage({ repoDir: EXAMPLES, packageDir: 'projects/images/hello-kiwi' });
    assert.deepEqual(await builder.buildDeps(pkg, { dist: 'bookworm', arch: 'x86_64' }), []);
  });
});
