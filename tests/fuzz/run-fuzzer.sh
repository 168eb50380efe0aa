#!/bin/sh
# Runs one libFuzzer target (built with -Dfuzzing=enabled) for
# DAE_FUZZ_SECONDS seconds (default 60), starting from the committed seed
# corpus and the regression inputs.  Exits non-zero on any crash, leak,
# timeout or sanitizer report; the input that caused it is left in
# WORK/artifacts/ -- add it to tests/fuzz/regressions/NAME/ (see
# tests/fuzz/README.md) so that it becomes a regression test.
#
# Usage: run-fuzzer.sh FUZZER NAME SEED_DIR REGRESSION_DIR WORK_DIR
set -eu

fuzzer=$1
name=$2
seeds=$3
regressions=$4
work=$5
seconds=${DAE_FUZZ_SECONDS:-60}

mkdir -p "$work/corpus" "$work/artifacts"
dirs="$work/corpus $seeds"
if [ -d "$regressions" ]; then
  dirs="$dirs $regressions"
fi

echo "fuzz-$name: ${seconds} s from $seeds"
status=0
# shellcheck disable=SC2086
"$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" $dirs || status=$?

if [ "$status" -ne 0 ]; then
  echo "fuzz-$name: FAILED (exit $status); crashing inputs:"
  ls -l "$work/artifacts/" || true
  exit 1
fi
echo "fuzz-$name: no crash in ${seconds} s; corpus now $(ls "$work/corpus" | wc -l) new inputs"
