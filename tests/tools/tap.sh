# TAP helpers shared by the command-line tests (sourced; needs $TMP).
#
#   ok DESCRIPTION              not_ok DESCRIPTION [LOG]
#   skip DESCRIPTION REASON
#   check_status DESCRIPTION EXPECTED_STATUS COMMAND...
#       runs COMMAND: stdout in $TMP/stdout, stderr in $TMP/stderr, both
#       in $TMP/out; ok when it exits with EXPECTED_STATUS
#
# $n counts the tests, $failed the failures; a script ends with
# `[ "$failed" -eq 0 ]`.

n=0
failed=0
ok () {
  n=$((n + 1))
  echo "ok $n - $1"
}
not_ok () {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    sed 's/^/# /' "$2" | tail -n 20
  fi
}
skip () {
  n=$((n + 1))
  echo "ok $n - $1 # SKIP $2"
}
check_status () {
  description=$1
  expected=$2
  shift 2
  "$@" >"$TMP/stdout" 2>"$TMP/stderr"
  status=$?
  cat "$TMP/stdout" "$TMP/stderr" >"$TMP/out"
  if [ "$status" -eq "$expected" ]; then
    ok "$description"
  else
    echo "# exit status $status, expected $expected" >>"$TMP/out"
    not_ok "$description" "$TMP/out"
  fi
}
