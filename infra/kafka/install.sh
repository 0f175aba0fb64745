#!/usr/bin/env bash
# Installs the Apache Kafka broker jars (version in pom.xml) from Maven Central into the
# git-ignored .cache/kafka/libs. Idempotent: returns at once when already installed.
set -euo pipefail
KAFKA_VERSION=4.4.0
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../maven-jars.sh" kafka "$KAFKA_VERSION" "$here/pom.xml" "kafka_2.13-$KAFKA_VERSION.jar"
