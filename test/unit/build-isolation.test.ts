/**
 * The pure parts of build isolation: mmdebstrap's argv ends its options before names from a dist
 * file, the host kind's environment is built from an allow-list, and host paths are replaced by
 * placeholders in what a build reports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mmdebstrapArgs } from '../../runner/buildroot/mmdebstrap.ts';
import { hostBuildEnvironment } from '../../runner/buildroot/run-settings.ts';
import { GENERATED_HOST_DIRS, hostPathRedactor } from '../../runner/job/host-paths.ts';

describe('mmdebstrap argv', () => {
  it('puts -- before the suite, target and mirror, so a suite from a dist file is never an option', () => {
    const args = mmdebstrapArgs(
      { suite: '--setup-hook=touch /pwned', mirror: 'http://deb.debian.org/debian' },
      '/cache/tree',
      ['--customize-hook=true'],
    );
    assert.deepEqual(args, [
      '--variant=minbase',
      '--components=main',
      '--customize-hook=true',
      '--',
      '--setup-hook=touch /pwned',
      '/cache/tree',
      'http://deb.debian.org/debian',
    ]);
  });
});

describe('host build environment', () => {
  const run = { cmd: ['true'], workdir: '/w/b-1/repo/p', outDir: '/w/b-1/out', env: { BUILDFLEET_DEB_SOURCE: 'p' } };

  it('takes PATH and the allowed names from the runner, nothing else', () => {
    const env = hostBuildEnvironment(run, {
      inherited: {
        PATH: '/opt/bin:/usr/bin',
        AWS_SECRET_ACCESS_KEY: 's',
        BUILDFLEET_BUS_SASL_PASSWORD: 'p',
        http_proxy: 'x',
      },
      allow: ['http_proxy', 'NOT_SET'],
    });
    assert.deepEqual(env, {
      PATH: '/opt/bin:/usr/bin',
      HOME: '/w/b-1/repo/p',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      http_proxy: 'x',
      BUILDFLEET_DEB_SOURCE: 'p',
      BUILDFLEET_SRC: '/w/b-1/repo/p',
      BUILDFLEET_OUT: '/w/b-1/out',
    });
  });

  it('has a standard PATH when the runner gives none, and the builder cannot move SRC and OUT', () => {
    const env = hostBuildEnvironment({ ...run, env: { BUILDFLEET_OUT: '/etc' } }, { inherited: {} });
    assert.equal(env['PATH'], '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    assert.equal(env['BUILDFLEET_OUT'], '/w/b-1/out');
  });
});

describe('host paths in build records', () => {
  const redact = hostPathRedactor([
    { path: '/srv/work/b-1', placeholder: '<build>' },
    { path: '/srv/work/', placeholder: '<work>' },
    { path: '/srv/cache', placeholder: '<cache>' },
    { path: 'relative', placeholder: '<never>' },
    ...GENERATED_HOST_DIRS,
  ]);

  it('replaces the longest path first and whole directory names only', () => {
    assert.equal(redact('in /srv/work/b-1/repo/x and /srv/work/b-2'), 'in <build>/repo/x and <work>/b-2');
    assert.equal(
      redact('/srv/cache/chroot/builds/t; /srv/cachedir stays'),
      '<cache>/chroot/builds/t; /srv/cachedir stays',
    );
    assert.equal(redact('a relative path'), 'a relative path');
  });

  it('replaces scratch directories and kiwi temp roots', () => {
    assert.equal(redact('dpkg-buildpackage in /tmp/buildfleet-deb.Ab12Cd/x'), 'dpkg-buildpackage in <scratch>/x');
    assert.equal(
      redact('kiwi-ng --temp-dir=/var/tmp/buildfleet-kiwi-Xy12Zw/tmp system build'),
      'kiwi-ng --temp-dir=<kiwi-root>/tmp system build',
    );
  });
});
