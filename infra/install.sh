#!/usr/bin/env bash
# Installs what buildfleet's start and test commands need on a Debian 12 machine, idempotently:
# Debian packages (only when one is missing) and the Kafka and S3 server jars from Maven Central
# (into the git-ignored .cache/, only when not there yet).
#   infra/install.sh            everything
#   infra/install.sh kafka s3   only those parts (apt | kafka | s3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(apt kafka s3)

# Debian packages the services and tests use. Keep this list the only place they are named.
APT_PACKAGES=(git maven kcat openjdk-17-jre-headless)
# openssl: the secured test broker's CA and certificates (test/harness/secure-kafka.ts).
APT_PACKAGES+=(openssl)
# Buildroots: podman serves the Docker API for the container kind (runc: crun refuses the hybrid
# cgroup layout; infra/podman/containers.conf), mmdebstrap makes base images and chroot trees.
APT_PACKAGES+=(podman runc mmdebstrap)
# Package build tools for the host buildroot (development) and the builder tests, plus the
# example packages' build dependencies (libpopt-dev for hello-deb).
APT_PACKAGES+=(build-essential dpkg-dev debhelper fakeroot rpm libpopt-dev)
# Collector apt repositories: apt-ftparchive (apt-utils) builds the indexes and Release, gnupg signs them.
APT_PACKAGES+=(apt-utils gnupg)
APT_PACKAGES+=(createrepo-c dnf) # rpm-md repositories (collector/rpm) and dnf as their test client
# kind kiwi (runner/builders/kiwi.ts): kiwi-ng bootstraps with debootstrap (a dependency); umoci and
# skopeo make oci and docker image types, rsync syncs the image root, xz-utils compresses tbz images.
APT_PACKAGES+=(kiwi rsync umoci skopeo xz-utils)
# kind docker (runner/builders/docker.ts): Debian's docker-registry is the local registry the tests push to
# (test/harness/registry.ts); it is not started as a service.
APT_PACKAGES+=(docker-registry)

want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

if want apt; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "install: Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if want kafka; then bash "$root/infra/kafka/install.sh"; fi
if want s3; then bash "$root/infra/s3/install.sh"; fi
