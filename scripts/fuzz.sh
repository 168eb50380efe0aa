#!/bin/sh
# Builds the fuzz targets with clang, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer in ./build-fuzz and runs each for SECONDS
# seconds (default 60), two at a time.  Fails if any fuzzer finds a crash,
# a leak or undefined behaviour; the crashing inputs are left in
# build-fuzz/tests/fuzz/work-<target>/artifacts/ (tests/fuzz/README.md says
# how to turn them into regression tests).  The test log is
# build-fuzz/meson-logs/testlog.json (suite 'fuzz').
#
# Usage: scripts/fuzz.sh [SECONDS]
# Needs clang and libclang-rt-14-dev (Debian 12).
set -eu
cd "$(dirname "$0")/.."

seconds=${1:-60}
case $seconds in
  ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2 ;;
esac

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz.sh: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=enabled \
      -Db_sanitize=address,undefined -Db_lundef=false \
      -Dc_args='-fno-sanitize-recover=all -fsanitize=fuzzer-no-link' \
      -Dbuildtype=debugoptimized
fi
targets=$(meson introspect build-fuzz --targets | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz-"):
        print(os.path.relpath(t["filename"][0], "build-fuzz"))')
# shellcheck disable=SC2086
ninja -C build-fuzz $targets

export DAE_FUZZ_SECONDS="$seconds"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec meson test -C build-fuzz --no-rebuild --suite fuzz --print-errorlogs \
    --num-processes 2
