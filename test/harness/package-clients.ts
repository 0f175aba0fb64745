/** Real package clients for repository tests: apt-get with a private configuration, dnf with an installroot. */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path, { join } from 'node:path';
import { runCommand, type CommandResult } from '../../shared/exec/index.ts';

/**
 * apt-get with a private configuration: its own sources list, lists, cache and an empty dpkg
 * status, so it touches nothing of the host's apt state. Runs as root without the _apt sandbox
 * user because the test's temp directories are private.
 */
export class PrivateAptClient {
  private constructor(private readonly dir: string) {}

  static async create(dir: string, sourcesLines: string): Promise<PrivateAptClient> {
    for (const sub of ['lists/partial', 'cache/archives/partial', 'trusted.d', 'download']) {
      await mkdir(path.join(dir, sub), { recursive: true });
    }
    await writeFile(path.join(dir, 'sources.list'), sourcesLines);
    await writeFile(path.join(dir, 'status'), '');
    return new PrivateAptClient(dir);
  }

  get downloadDir(): string {
    return path.join(this.dir, 'download');
  }

  private options(): string[] {
    const settings = {
      'Dir::Etc::sourcelist': path.join(this.dir, 'sources.list'),
      'Dir::Etc::sourceparts': '-',
      'Dir::Etc::trusted': '/dev/null',
      'Dir::Etc::trustedparts': path.join(this.dir, 'trusted.d'),
      'Dir::State::Lists': path.join(this.dir, 'lists'),
      'Dir::State::status': path.join(this.dir, 'status'),
      'Dir::Cache': path.join(this.dir, 'cache'),
      'APT::Sandbox::User': 'root',
      'Acquire::Languages': 'none',
      'APT::Architecture': 'amd64',
    };
    return Object.entries(settings).flatMap(([key, value]) => ['-o', `${key}=${value}`]);
  }

  /** Runs an apt-get command; returns the result whatever the exit code. */
  aptGet(args: string[]): Promise<CommandResult> {
    return runCommand('apt-get', [...this.options(), ...args], {
      cwd: this.downloadDir,
      timeoutMs: 120_000,
      okExitCodes: [0, 100],
      env: { LC_ALL: 'C' },
    });
  }

  aptCache(args: string[]): Promise<CommandResult> {
    return runCommand('apt-cache', [...this.options(), ...args], { timeoutMs: 60_000, env: { LC_ALL: 'C' } });
  }
}

/** Builds a noarch rpm with no requirements (an empty installroot can take it) whose one file holds its version. */
export async function buildNoarchRpm(
  dir: string,
  name: string,
  version: string,
  release = '1',
  /** Adds an uncompressed file of this many MiB of random bytes (a big package for timing tests). */
  payloadMb = 0,
): Promise<string> {
  const top = join(dir, `rpmbuild-${name}-${version}-${release}`);
  await mkdir(top, { recursive: true });
  const spec = join(top, `${name}.spec`);
  await writeFile(
    spec,
    [
      `Name: ${name}`,
      `Version: ${version}`,
      `Release: ${release}`,
      'Summary: buildfleet repository test package',
      'License: MIT',
      'BuildArch: noarch',
      'AutoReqProv: no',
      // Stored, not compressed: quick to build even with a big random payload.
      '%define _binary_payload w0.ufdio',
      '%description',
      'Test package.',
      '%install',
      `mkdir -p %{buildroot}/usr/share/${name}`,
      `echo ${version}-${release} > %{buildroot}/usr/share/${name}/version.txt`,
      ...(payloadMb > 0 ? [`head -c ${payloadMb}M /dev/urandom > %{buildroot}/usr/share/${name}/payload`] : []),
      '%files',
      `/usr/share/${name}/version.txt`,
      ...(payloadMb > 0 ? [`/usr/share/${name}/payload`] : []),
      '',
    ].join('\n'),
  );
  await runCommand('rpmbuild', ['-bb', '--nodeps', '--define', `_topdir ${top}`, spec], { timeoutMs: 120_000 });
  return join(top, 'RPMS', 'noarch', `${name}-${version}-${release}.noarch.rpm`);
}

/**
 * The options of a dnf run in `run` (its own config, cache and installroot `<run>/root`, Debian
 * 12 as the release) with the repository `bf` at `baseUrl`, gpgcheck and repo_gpgcheck on.
 */
async function dnfOptions(run: string, options: { baseUrl: string; keyUrl: string }): Promise<string[]> {
  const reposdir = join(run, 'repos.d');
  await mkdir(reposdir);
  await writeFile(join(run, 'dnf.conf'), '[main]\n');
  return [
    `--config=${join(run, 'dnf.conf')}`,
    `--installroot=${join(run, 'root')}`,
    '--releasever=12',
    `--setopt=reposdir=${reposdir}`,
    `--setopt=cachedir=${join(run, 'cache')}`,
    '--setopt=install_weak_deps=False',
    `--repofrompath=bf,${options.baseUrl}/`,
    '--setopt=bf.gpgcheck=1',
    '--setopt=bf.repo_gpgcheck=1',
    `--setopt=bf.gpgkey=${options.keyUrl}`,
  ];
}

/** Installs `name` with real dnf into a fresh installroot from `baseUrl`, gpgcheck and repo_gpgcheck on. */
export async function dnfInstall(options: {
  workDir: string;
  baseUrl: string;
  keyUrl: string;
  name: string;
}): Promise<{ exitCode: number; output: string; installed: string | undefined }> {
  const run = await mkdtemp(join(options.workDir, 'dnf-'));
  const result = await runCommand('dnf', [...(await dnfOptions(run, options)), '-y', 'install', options.name], {
    timeoutMs: 120_000,
    okExitCodes: [0, 1],
  });
  const installed = await readFile(join(run, 'root', 'usr', 'share', options.name, 'version.txt'), 'utf8').catch(
    () => undefined,
  );
  return { exitCode: result.exitCode, output: result.stdout + result.stderr, installed: installed?.trim() };
}

/**
 * Installs a real (arch, dynamically linked) rpm with dnf into an empty installroot: the
 * installroot has no glibc, so a second, local repository offers one noarch package that
 * provides exactly what `name` requires (read from the rpm with `rpm -qp --requires`). The
 * package itself still comes from `baseUrl` with gpgcheck and repo_gpgcheck on. Returns the
 * installroot; its binaries run with the host's libc (the buildroot is the same Debian).
 */
export async function dnfInstallWithProvidesShim(options: {
  workDir: string;
  baseUrl: string;
  keyUrl: string;
  name: string;
  /** The rpm file (as published), to read its requirements. */
  rpmFile: string;
}): Promise<{ exitCode: number; output: string; root: string }> {
  const run = await mkdtemp(join(options.workDir, 'dnf-shim-'));
  const requires = (await runCommand('rpm', ['-qp', '--requires', options.rpmFile])).stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('rpmlib(') && !line.startsWith('/'));
  const top = join(run, 'shim-build');
  await mkdir(top, { recursive: true });
  const spec = join(top, 'shim.spec');
  await writeFile(
    spec,
    [
      'Name: bf-provides-shim',
      'Version: 1',
      'Release: 1',
      'Summary: provides what the tested package requires',
      'License: MIT',
      'BuildArch: noarch',
      'AutoReqProv: no',
      ...requires.map((r) => `Provides: ${r}`),
      '%description',
      'Test shim.',
      '%files',
      '',
    ].join('\n'),
  );
  await runCommand('rpmbuild', ['-bb', '--nodeps', '--define', `_topdir ${top}`, spec], { timeoutMs: 120_000 });
  const shimRepo = join(run, 'shim-repo');
  await mkdir(shimRepo);
  await runCommand('sh', ['-c', `cp ${top}/RPMS/noarch/*.rpm ${shimRepo}/`]);
  await runCommand('createrepo_c', ['--quiet', shimRepo], { timeoutMs: 60_000 });
  const root = join(run, 'root');
  const result = await runCommand(
    'dnf',
    [
      ...(await dnfOptions(run, options)),
      `--repofrompath=shim,file://${shimRepo}`,
      '--setopt=shim.gpgcheck=0',
      '-y',
      'install',
      options.name,
    ],
    { timeoutMs: 180_000, okExitCodes: [0, 1] },
  );
  return { exitCode: result.exitCode, output: result.stdout + result.stderr, root };
}
