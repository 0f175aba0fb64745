#!/usr/bin/env bash
# Installs the s3proxy jars (version in pom.xml) and their runtime dependencies from Maven Central
# into the git-ignored .cache/s3proxy/libs, apart from Kafka's jars (their versions clash).
# Idempotent: returns at once when already installed.
set -euo pipefail
S3PROXY_VERSION=4.1.0
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../maven-jars.sh" s3proxy "$S3PROXY_VERSION" "$here/pom.xml" "s3proxy-$S3PROXY_VERSION.jar"
