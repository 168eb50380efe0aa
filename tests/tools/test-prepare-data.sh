#!/bin/sh
# Tests the command line of models/prepare-data.py: its options and usage
# errors only (a real run decodes Debian's audio for minutes); prints TAP.
#
# Usage: tests/tools/test-prepare-data.sh PATH/TO/prepare-data.py
# Runs it with Debian's /usr/bin/python3 (its shebang), which has numpy.
set -u

SCRIPT=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/test-prepare-data.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
PY=/usr/bin/python3

. "$(dirname "$0")/tap.sh"

echo "TAP version 13"
echo "1..6"

if ! "$PY" -c "import numpy" 2>/dev/null; then
  for t in 1 2 3 4 5 6; do
    skip "prepare-data.py test $t" "no numpy for $PY"
  done
  exit 0
fi

mkdir "$TMP/cwd"
cd "$TMP/cwd" || exit 1

check_status "--help exits 0" 0 "$PY" "$SCRIPT" --help
if grep -q "CACHE_DIR" "$TMP/out" && grep -q -- "--extra-voices" "$TMP/out" &&
    grep -q -- "--eval-list" "$TMP/out"; then
  ok "--help documents CACHE_DIR, --extra-voices and --eval-list"
else
  not_ok "--help documents CACHE_DIR, --extra-voices and --eval-list" "$TMP/out"
fi
if [ -z "$(ls -A "$TMP/cwd")" ]; then
  ok "--help writes nothing (no cache directory named --help)"
else
  not_ok "--help writes nothing (no cache directory named --help)"
  ls -A "$TMP/cwd" | sed 's/^/# /'
fi

check_status "no arguments is a usage error (exit 2)" 2 "$PY" "$SCRIPT"
check_status "an unknown option is a usage error (exit 2)" 2 \
  "$PY" "$SCRIPT" "$TMP/cache" --bogus
if [ ! -e "$TMP/cache" ]; then
  ok "a usage error writes nothing"
else
  not_ok "a usage error writes nothing"
fi

[ "$failed" -eq 0 ]
