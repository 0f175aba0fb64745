#!/usr/bin/env bash
# Installs the Apache Kafka broker jars (version in pom.xml) from Maven Central into the
# git-ignored .cache/kafka/libs. Idempotent: returns at once when the marker file exists.
# Override the Maven repository with MAVEN_REPO_LOCAL (e.g. to measure a cold install).
set -euo pipefail
KAFKA_VERSION=3.9.1
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
here="$(cd "$(dirname "$0")" && pwd)"
cache="$here/../../.cache/kafka"
marker="$cache/.installed-$KAFKA_VERSION"
[ -f "$marker" ] && exit 0

echo "install: Kafka $KAFKA_VERSION broker jars from Maven Central -> .cache/kafka/libs"
command -v mvn >/dev/null || { echo "install: mvn not found (infra/install.sh apt installs maven)" >&2; exit 1; }
mkdir -p "$cache"
# Download into a fresh directory and swap it in, so an interrupted run never leaves half a libs dir behind.
staging="$(mktemp -d "$cache/libs.tmp.XXXXXX")"
trap 'rm -rf "$staging" "$staging.log"' EXIT
repo_args=()
[ -n "${MAVEN_REPO_LOCAL:-}" ] && repo_args=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
# Maven's output (ANSI resets even with -q) is shown only when it fails.
if ! mvn -B -q "${repo_args[@]}" -f "$here/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
  -DincludeScope=runtime -DoutputDirectory="$staging" >"$staging.log" 2>&1; then
  cat "$staging.log" >&2
  exit 1
fi
ls "$staging"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null
rm -rf "$cache/libs" "$cache"/.installed-*
mv "$staging" "$cache/libs"
touch "$marker"
