#!/usr/bin/python3
"""Combines the results.json of several run.py runs (e.g. two runs on
different --kinds, run in parallel) into one table with the means over all
kinds and the targets.

Usage: bench/anomaly/table.py OUT_A/results.json OUT_B/results.json ...
"""

import json
import sys

import numpy as np


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    kinds = {}
    settings = []
    for path in sys.argv[1:]:
        with open(path) as f:
            r = json.load(f)
        settings.append(r["settings"])
        for k, v in r["kinds"].items():
            if k in kinds:
                print("table.py: kind %s is in more than one file" % k,
                      file=sys.stderr)
                return 1
            kinds[k] = v
    if any(s != settings[0] for s in settings):
        print("table.py: the runs have different settings: %s" % settings,
              file=sys.stderr)
        return 1
    names = list(kinds)
    systems = [s for s in ("dae", "dcase", "pca", "rms")
               if all(s in kinds[k]["systems"] for k in names)]

    def mean(system, key):
        return float(np.mean([kinds[k]["systems"][system][key]
                              for k in names]))

    head = "%-9s" % "kind" + "".join("%16s" % s for s in systems)
    print("AUC / pAUC (FPR <= 0.1, area / 0.1), mean over units")
    print(head)
    print("-" * len(head))
    for k in names:
        print("%-9s" % k + "".join(
            "%16s" % ("%.3f / %.3f" % (kinds[k]["systems"][s]["auc"],
                                       kinds[k]["systems"][s]["pauc"]))
            for s in systems))
    print("%-9s" % "mean" + "".join(
        "%16s" % ("%.3f / %.3f" % (mean(s, "auc"), mean(s, "pauc")))
        for s in systems))
    print()
    print("times per kind: dae training wall s / CPU s, scoring CPU s per "
          "clip, processor RTF; dcase training wall s")
    for k in names:
        t = kinds[k]["times"]
        d = t["dae"]
        print("  %-8s dae %s / %s s, %.3f s/clip, RTF %.4f; dcase %s s" % (
            k, "%.0f" % d["train_seconds"] if "train_seconds" in d else "-",
            "%.0f" % d["train_cpu_seconds"] if "train_cpu_seconds" in d
            else "-", d["score_cpu_seconds_per_clip"], d["rtf"],
            "%.0f" % t["dcase"]["train_seconds"] if "dcase" in t else "-"))
    rtf = float(np.mean([kinds[k]["times"]["dae"]["rtf"] for k in names]))
    print("  mean dae scoring RTF (processor CPU s per audio s): %.4f" % rtf)
    online = [k for k in names if "online" in kinds[k]]
    if online:
        print()
        print("online learning (learn-duration) against offline training "
              "(dae-train anomaly) on the same audio, AUC / pAUC")
        for k in online:
            o = kinds[k]["online"]
            print("  %-8s online %.3f / %.3f, offline %.3f / %.3f" % (
                k, o["online_auc"], o["online_pauc"], o["offline_auc"],
                o["offline_pauc"]))
        on = float(np.mean([kinds[k]["online"]["online_auc"]
                            for k in online]))
        off = float(np.mean([kinds[k]["online"]["offline_auc"]
                             for k in online]))
        print("  %-8s online %.3f, offline %.3f (difference %+.3f)"
              % ("mean", on, off, on - off))
    if "dcase" in systems:
        gain = mean("dae", "auc") - mean("dcase", "auc")
        worse = [k for k in names if kinds[k]["systems"]["dae"]["auc"]
                 <= kinds[k]["systems"]["dcase"]["auc"]]
        print()
        print("targets: mean AUC %+.3f over the DCASE baseline (>= 0.05: "
              "%s); above it on every kind: %s; RTF <= 0.01: %s%s" % (
                  gain, "yes" if gain >= 0.05 else "NO",
                  "yes" if not worse else "NO (%s)" % ", ".join(worse),
                  "yes" if rtf <= 0.01 else "NO",
                  "; online within 0.05 of offline: %s" % (
                      "yes" if on >= off - 0.05 else "NO")
                  if online else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
