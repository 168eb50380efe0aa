#!/bin/sh
# Runs a pipeline script (or any command) and checks its result, for the
# 'pipelines' test suite.
#   check-pipeline.sh SCRIPT.sh          runs "sh SCRIPT.sh"
#   check-pipeline.sh PROGRAM ARGS...    runs the program
# Env: CHECK_WAV   a file that must then be a non-empty WAV file
#      CHECK_OUTPUT a string that must appear in the command's output
set -eu

log=$(mktemp)
trap 'rm -f "$log"' EXIT

case "$1" in
  *.sh) sh "$@" >"$log" 2>&1 || { cat "$log"; echo "check-pipeline: $1 failed" >&2; exit 1; } ;;
  *) "$@" >"$log" 2>&1 || { cat "$log"; echo "check-pipeline: $1 failed" >&2; exit 1; } ;;
esac
cat "$log"

if [ -n "${CHECK_WAV:-}" ]; then
  if [ ! -s "$CHECK_WAV" ] || [ "$(head -c 4 "$CHECK_WAV")" != "RIFF" ]; then
    echo "check-pipeline: $CHECK_WAV is not a WAV file" >&2
    exit 1
  fi
  size=$(wc -c <"$CHECK_WAV")
  if [ "$size" -le 44 ]; then
    echo "check-pipeline: $CHECK_WAV has no audio ($size bytes)" >&2
    exit 1
  fi
fi

if [ -n "${CHECK_OUTPUT:-}" ] && ! grep -q -- "$CHECK_OUTPUT" "$log"; then
  echo "check-pipeline: output lacks \"$CHECK_OUTPUT\"" >&2
  exit 1
fi
