/** What `buildfleet up` prints once the first builds are done: pure text from records and repositories. */
import type { BuildRecord } from '../../shared/messages/index.ts';
import type { RepoListing } from '../../shared/repos/catalog.ts';

export function buildLines(builds: readonly BuildRecord[]): string[] {
  return [...builds]
    .sort((a, b) => a.buildKey.localeCompare(b.buildKey))
    .map((b) => {
      const d = b.durations;
      const phases = d
        ? ` (${(['checkout', 'buildroot', 'build', 'upload'] as const)
            .filter((p) => d[p] !== undefined)
            .map((p) => `${p} ${formatMs(d[p] ?? 0)}`)
            .join(', ')})`
        : '';
      const error = b.error ? `: [${b.error.code}] ${b.error.message.split('\n')[0] ?? ''}` : '';
      return `  ${b.buildKey}  ${b.state}${phases}${error}`;
    });
}

export function repositoryLines(repos: readonly RepoListing[]): string[] {
  const lines: string[] = [];
  for (const repo of repos) {
    const id = `buildfleet-${repo.key.replace(/[^A-Za-z0-9]+/g, '-')}`;
    lines.push(`  ${repo.key} (${repo.format}, version ${repo.version})`);
    if (repo.format === 'apt') {
      lines.push(`    curl -fsSL ${repo.keyUrl} -o /etc/apt/keyrings/${id}.asc`);
      lines.push(
        `    echo "deb [signed-by=/etc/apt/keyrings/${id}.asc] ${repo.url} ${repo.dist} main" > /etc/apt/sources.list.d/${id}.list`,
      );
    } else if (repo.format === 'rpm') {
      lines.push(
        `    printf '[${id}]\\nname=${repo.key}\\nbaseurl=${repo.url}\\ngpgcheck=1\\nrepo_gpgcheck=1\\ngpgkey=${repo.keyUrl}\\n' > /etc/yum.repos.d/${id}.repo`,
      );
    } else {
      lines.push(`    index: ${repo.url}/index.json`);
    }
  }
  return lines;
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

/** The banner's line on HTTP access (docs/security.md): who may submit, and where the admin token is. */
export function accessLine(anonymous: 'none' | 'read' | 'submit', credentialsFile: string, tokensFile: string): string {
  const token = `admin token saved for the CLI in ${credentialsFile} (more: buildfleet tokens create --file ${tokensFile})`;
  switch (anonymous) {
    case 'submit':
      return `access: INSECURE LOCAL MODE (--insecure-local): anyone on this machine may submit and cancel without a token; ${token}`;
    case 'read':
      return `access: reading without a token, submitting needs one; ${token}`;
    case 'none':
      return `access: every API request needs a token; ${token}`;
    default: {
      const never: never = anonymous;
      return never;
    }
  }
}
