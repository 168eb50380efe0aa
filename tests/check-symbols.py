#!/usr/bin/env python3
"""Checks that libdae exports exactly the public API declared in its headers.

Usage: check-symbols.py LIBDAE.so HEADER.h...   (dae.h dae-train.h)
Prints TAP: one test that the sets are equal, with the differences listed.
"""
import re
import subprocess
import sys


def declared(header):
    text = open(header, encoding="utf-8").read()
    # drop preprocessor lines (the DAE_API definition itself)
    text = "\n".join(l for l in text.splitlines()
                     if not l.lstrip().startswith("#"))
    # DAE_API <return type> <name> (   -- the name is the last identifier
    # before the opening parenthesis.
    names = set()
    for match in re.finditer(r"DAE_API\s+([^;(]*?)\b(\w+)\s*\(", text):
        names.add(match.group(2))
    return names


def exported(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library],
                         check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVW":
            names.add(parts[2])
    return names


def main():
    library, headers = sys.argv[1], sys.argv[2:]
    api = set()
    empty = []
    for header in headers:
        names = declared(header)
        if not names:
            empty.append(header)
        api |= names
    syms = exported(library)
    print("TAP version 13")
    print("1..2")
    if headers and not empty:
        print("ok 1 - %d headers declare %d DAE_API functions"
              % (len(headers), len(api)))
    else:
        print("not ok 1 - no DAE_API declarations found in %s"
              % (", ".join(empty) or "(no headers given)"))
    missing = sorted(api - syms)
    extra = sorted(syms - api)
    if not missing and not extra:
        print("ok 2 - exported symbols == public API (%d)" % len(syms))
        return 0
    print("not ok 2 - exported symbols differ from the public API")
    for name in missing:
        print("# declared but not exported: %s" % name)
    for name in extra:
        print("# exported but not declared: %s" % name)
    return 1


if __name__ == "__main__":
    sys.exit(main())
