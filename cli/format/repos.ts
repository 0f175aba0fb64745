/** The text `repos` prints: each repository with the line apt or dnf needs. Pure. */
import type { RepoListing } from '../../shared/repos/catalog.ts';

export function formatRepos(repos: readonly RepoListing[]): string {
  if (repos.length === 0) return 'no published repositories\n';
  const lines: string[] = [];
  for (const repo of repos) {
    lines.push(`${repo.key} (${repo.format}, version ${repo.version})`);
    if (repo.format === 'apt') {
      lines.push(`  deb [signed-by=/etc/apt/keyrings/buildfleet.asc] ${repo.url} ${repo.dist} main`);
    } else if (repo.format === 'rpm') {
      lines.push(`  baseurl=${repo.url}  gpgcheck=1  repo_gpgcheck=1  gpgkey=${repo.keyUrl}`);
    }
    lines.push(`  key: ${repo.keyUrl}`);
  }
  return `${lines.join('\n')}\n`;
}
