#!/bin/bash
# Runs inside the image root after the packages are installed (kiwi-ng's config.sh hook).
# A container root needs no apt indexes, package cache, documentation or translations:
# removing them halves the image and the time xz takes to compress it.
set -euo pipefail
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/*
exit 0
