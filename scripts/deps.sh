#!/bin/sh
# Installs the Debian 12 packages dae needs to build, test and run, if any
# are missing.  Uses sudo when not run as root.  Safe to run again.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc libc6-dev binutils
  libfftw3-dev libopenblas-dev libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  python3 python3-gi python3-numpy gir1.2-gstreamer-1.0
  indent time
"

missing=""
for pkg in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $pkg"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "deps.sh: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
