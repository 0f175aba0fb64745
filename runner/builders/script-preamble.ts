/**
 * The start of every build script: strict mode, a scratch directory of the build in `$<variable>`
 * that is removed however the script ends, and hang-up, interrupt and terminate turned into the
 * exit codes a shell reports for them (so the EXIT trap runs).
 */
export function scratchDirPreamble(variable: string, name: string): string {
  return `set -eu
${variable}=$(mktemp -d "\${TMPDIR:-/tmp}/buildfleet-${name}.XXXXXX")
trap 'rm -rf "$${variable}"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
`;
}
