#!/usr/bin/env python3
"""Checks that the example pipelines in the SECTION:element-daedenoise doc
block are copies of the commands in pipelines/*.sh (with their defaults),
and that every pipeline script is shown there.

Usage: check-doc-pipelines.py ELEMENT.c PIPELINES_DIR
Runs each script with a stand-in gst-launch-1.0 that prints its arguments.
Prints TAP.
"""

import os
import re
import subprocess
import sys
import tempfile


def doc_commands(source):
    with open(source, encoding="utf-8") as f:
        text = f.read()
    section = re.search(r"/\*\*\s*\n \* SECTION:element-daedenoise(.*?)\*/",
                        text, re.S)
    if section is None:
        return None
    blocks = re.findall(r"\|\[(.*?)\]\|", section.group(1), re.S)
    commands = []
    for block in blocks:
        lines = [re.sub(r"^\s*\* ?", "", line) for line in block.split("\n")]
        command = " ".join(line.strip() for line in lines if line.strip())
        commands.append(command)
    return commands


def script_commands(pipelines_dir):
    result = {}
    with tempfile.TemporaryDirectory() as bindir:
        fake = os.path.join(bindir, "gst-launch-1.0")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho gst-launch-1.0 \"$@\"\n")
        os.chmod(fake, 0o755)
        env = {k: v for k, v in os.environ.items()
               if k not in ("IN", "OUT", "SRC", "SINK", "THRESHOLD",
                            "INTERVAL", "OUT_DAE", "OUT_WEBRTC", "MODEL",
                            "LEARN", "EPOCHS")}
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        for name in sorted(os.listdir(pipelines_dir)):
            if not name.endswith(".sh"):
                continue
            out = subprocess.run(["sh", os.path.join(pipelines_dir, name)],
                                 env=env, check=True, capture_output=True,
                                 text=True).stdout
            result[name] = " ".join(out.split())
    return result


def main(argv):
    docs = doc_commands(argv[1])
    scripts = script_commands(argv[2])
    tests = []
    tests.append(("doc block found with examples", bool(docs)))
    docs = docs or []
    for command in docs:
        tests.append(("doc example is a pipelines/*.sh command: %s"
                      % command[:60], command in scripts.values()))
    for name, command in scripts.items():
        tests.append(("pipelines/%s is shown in the doc block" % name,
                      command in docs))
    print("1..%d" % len(tests))
    failed = 0
    for i, (name, ok) in enumerate(tests, 1):
        print("%s %d %s" % ("ok" if ok else "not ok", i, name))
        failed += not ok
    if failed:
        print("# scripts: %r" % scripts, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
