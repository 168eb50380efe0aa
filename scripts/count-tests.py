#!/usr/bin/env python3
"""Counts test results from meson test logs (testlog.json).

Usage: count-tests.py TESTLOG.json...
TAP tests count each subtest ('ok' / 'not ok' lines; '# SKIP' counts as
skipped); other tests count once by their result.  A TAP test whose process
failed without a failing subtest (crash, timeout) counts one failure more.
Prints 'N passed, N failed, N skipped' and exits 1 if anything failed.
"""
import json
import re
import sys

OK = re.compile(r"^ok\b")
NOT_OK = re.compile(r"^not ok\b")
SKIP = re.compile(r"#\s*skip", re.IGNORECASE)


def count(path, totals):
    with open(path, encoding="utf-8") as log:
        for line in log:
            line = line.strip()
            if not line:
                continue
            entry = json.loads(line)
            result = entry.get("result", "")
            output = entry.get("stdout") or ""
            passed = failed = skipped = 0
            if entry.get("protocol") == "tap" or "TAP version" in output or re.search(r"^1\.\.\d+", output, re.M):
                for tap in output.splitlines():
                    tap = tap.strip()
                    if NOT_OK.match(tap):
                        if SKIP.search(tap) or re.search(r"#\s*todo", tap, re.I):
                            skipped += 1
                        else:
                            failed += 1
                    elif OK.match(tap):
                        if SKIP.search(tap):
                            skipped += 1
                        else:
                            passed += 1
                if result not in ("OK", "SKIP", "EXPECTEDFAIL") and failed == 0:
                    failed += 1
                if passed + failed + skipped == 0:
                    skipped += 1 if result == "SKIP" else 0
            else:
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
            totals[0] += passed
            totals[1] += failed
            totals[2] += skipped


def main():
    totals = [0, 0, 0]
    for path in sys.argv[1:]:
        try:
            count(path, totals)
        except OSError as error:
            print("count-tests: %s" % error, file=sys.stderr)
            totals[1] += 1
    print("%d passed, %d failed, %d skipped" % tuple(totals))
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
