#!/bin/sh
# Formats C sources with GNU indent 2.2.12 and GStreamer's gst-indent flags,
# run twice because indent is not idempotent in one pass.
# Usage: scripts/indent.sh FILE.c...   (no arguments: every tracked .c file)
set -eu

if ! command -v indent >/dev/null 2>&1; then
  echo "indent.sh: GNU indent is not installed (apt-get install indent)" >&2
  exit 1
fi

if [ "$#" -eq 0 ]; then
  cd "$(dirname "$0")/.."
  set -- $(git ls-files '*.c')
fi

for file in "$@"; do
  for pass in 1 2; do
    indent \
      --braces-on-if-line \
      --case-brace-indentation0 \
      --case-indentation2 \
      --braces-after-struct-decl-line \
      --line-length80 \
      --no-tabs \
      --cuddle-else \
      --dont-line-up-parentheses \
      --continuation-indentation4 \
      --honour-newlines \
      --tab-size8 \
      --indent-level2 \
      --leave-preprocessor-space \
      "$file"
  done
  rm -f "$file~"
done
