#!/bin/sh
# Prints the greeting the image was built with (build arg GREETING) and the Debian release.
echo "$(cat /etc/hello-greeting) on Debian $(cat /etc/debian_version)"
