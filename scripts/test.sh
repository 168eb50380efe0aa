#!/bin/sh
# Runs the whole test suite: installs missing Debian packages, configures
# and builds in ./build, then runs every meson test.
# Extra arguments go to `meson test` (for example --suite lib).
set -eu
cd "$(dirname "$0")/.."

sh scripts/deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build ${DAE_MESON_ARGS:-}
fi
ninja -C build
meson test -C build --print-errorlogs "$@"
