#!/usr/bin/env bash
# Copies the runtime jars of a pom's dependencies from Maven Central into a git-ignored cache
# directory, once: a marker file per version makes later runs return at once.
#   infra/maven-jars.sh <name> <version> <pom.xml> <jar that must be there after the copy>
# Installs into <repo>/.cache/<name>/libs. MAVEN_REPO_LOCAL overrides Maven's repository (e.g. to
# measure a cold install).
set -euo pipefail
name="$1" version="$2" pom="$3" expected_jar="$4"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/$name"
marker="$cache/.installed-$version"
[ -f "$marker" ] && exit 0

echo "install: $name $version jars from Maven Central -> .cache/$name/libs"
command -v mvn >/dev/null || { echo "install: mvn not found (infra/install.sh apt installs maven)" >&2; exit 1; }
mkdir -p "$cache"
# Download into a fresh directory and swap it in, so an interrupted run never leaves half a libs dir behind.
staging="$(mktemp -d "$cache/libs.tmp.XXXXXX")"
trap 'rm -rf "$staging" "$staging.log"' EXIT
repo_args=()
[ -n "${MAVEN_REPO_LOCAL:-}" ] && repo_args=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
# Maven's output (ANSI resets even with -q) is shown only when it fails.
if ! mvn -B -q "${repo_args[@]}" -f "$pom" "$DEPENDENCY_PLUGIN:copy-dependencies" \
  -DincludeScope=runtime -DoutputDirectory="$staging" >"$staging.log" 2>&1; then
  cat "$staging.log" >&2
  exit 1
fi
ls "$staging/$expected_jar" >/dev/null
rm -rf "$cache/libs" "$cache"/.installed-*
mv "$staging" "$cache/libs"
touch "$marker"
