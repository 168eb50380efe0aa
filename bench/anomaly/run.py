#!/usr/bin/python3
"""Machine-sound anomaly benchmark: dae against the DCASE 2020 baseline.

Usage: bench/anomaly/run.py [--data DIR] [--out DIR] [--build DIR]
                            [--kinds fan,pump,...] [--dcase-epochs N]
                            [--dae-args "..."] [--skip-dcase] [--reuse]

For every machine kind of the data set (make-dataset.py), one model per
kind is trained on the normal training clips of all its units (as the
DCASE 2020 baseline trains one model per machine type) and every test
clip gets a score; AUC and pAUC (FPR <= 0.1, area / 0.1) are computed per
unit (its normal vs its anomalous test clips) and averaged over the units
of a kind, then over kinds.  Systems:

  dae      `dae-train anomaly --normal <train dirs>` with its defaults,
           scored with `dae-score --json` (file score: mean of the top
           10 % frame scores)
  dcase    the DCASE 2020 Task 2 baseline autoencoder (baselines.py)
  pca      PCA reconstruction error of the same log-mel vectors
  rms      the clip's RMS level (a sanity check: should be near chance)

Times: training wall-clock and CPU seconds per kind; scoring CPU seconds
per clip (dae: the whole dae-score process, decoding included, and the
processor alone, from dae-score's per-file cpu_seconds; the real-time
factor is processor CPU seconds per audio second).  The tools run with
OPENBLAS_NUM_THREADS=1 and --threads 1; numpy uses what it is given.

Prints the tables and writes OUT/results.json.
"""

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import baselines as B  # noqa: E402


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def unit_metrics(clips, scores):
    """AUC/pAUC per unit and their means; per anomaly type AUC."""
    units = sorted({c["unit"] for c in clips})
    per_unit = {}
    per_type = {}
    for u in units:
        cu = [c for c in clips if c["unit"] == u]
        y = [c["label"] == "anomaly" for c in cu]
        s = [scores[c["file"]] for c in cu]
        per_unit[u] = {"auc": B.auc(y, s), "pauc": B.pauc(y, s)}
        types = sorted({c["anomaly"] for c in cu if c["anomaly"]})
        for t in types:
            ct = [c for c in cu if c["label"] == "normal" or c["anomaly"] == t]
            yt = [c["label"] == "anomaly" for c in ct]
            st = [scores[c["file"]] for c in ct]
            per_type.setdefault(t, []).append(B.auc(yt, st))
    return {
        "auc": float(np.mean([m["auc"] for m in per_unit.values()])),
        "pauc": float(np.mean([m["pauc"] for m in per_unit.values()])),
        "units": {str(u): m for u, m in per_unit.items()},
        "types": {t: float(np.mean(v)) for t, v in per_type.items()},
    }


def dae_groups(args, kind, units, test_clips):
    """(model name, training dirs, test clips) per dae model: one per kind
    (default, as the DCASE baseline) or one per unit (--dae-per-unit)."""
    if args.dae_per_unit:
        return [("%s-id_%02d" % (kind, u),
                 [os.path.join(args.data, kind, "id_%02d" % u, "train")],
                 [c for c in test_clips if c["unit"] == u]) for u in units]
    return [(kind, [os.path.join(args.data, kind, "id_%02d" % u, "train")
                    for u in units], test_clips)]


def model_path(args, name):
    return os.path.join(args.out, "models", name + ".dae")


def train_dae(args, groups, results):
    """Trains the models of groups one after the other (run in a thread
    while the baselines train); fills results[name]."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    for name, train_dirs, _ in groups:
        model = model_path(args, name)
        os.makedirs(os.path.dirname(model), exist_ok=True)
        cmd = [os.path.join(args.build, "tools", "dae-train"), "anomaly",
               "--normal"] + train_dirs + ["-o", model, "--threads", "1",
                                           "--seed", str(args.seed)] \
            + shlex.split(args.dae_args)
        result = {"command": " ".join(shlex.quote(a) for a in cmd)}
        results[name] = result
        if args.reuse and os.path.exists(model):
            continue
        with open(model + ".log", "w") as log_file:
            t0 = time.time()
            p = subprocess.Popen(cmd, env=env, stdout=log_file,
                                 stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        result["train_seconds"] = time.time() - t0
        result["train_cpu_seconds"] = usage.ru_utime + usage.ru_stime
        if p.returncode != 0:
            result["error"] = "dae-train failed, see %s.log" % model
            return
        if os.path.exists(model + ".ckpt"):
            os.remove(model + ".ckpt")


def score_dae(args, groups, results, test_clips):
    """Scores every group's test clips with its model (dae-score --json)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    rel = {os.path.join(args.data, c["file"]): c["file"] for c in test_clips}
    scores = {}
    variants = {"bands": {}, "frames": {}, "mean": {}, "max": {}}
    proc_cpu = audio = score_cpu = 0.0
    models = []
    label = {c["file"]: c["label"] for c in test_clips}
    # the calibrated detector (threshold + hold) on the test clips: alarms
    # on normal audio, anomalous clips with at least one alarm
    alarms = {"normal_seconds": 0.0, "normal_alarms": 0,
              "normal_clips_with_alarm": 0, "normal_clips": 0,
              "anomalous_clips_with_alarm": 0, "anomalous_clips": 0}
    for name, _, clips in groups:
        result = results[name]
        if "error" in result:
            raise RuntimeError("%s: %s" % (name, result["error"]))
        model = model_path(args, name)
        result["info"] = subprocess.run(
            [os.path.join(args.build, "tools", "dae-train"), "--info", model],
            capture_output=True, text=True, check=True).stdout
        for line in result["info"].splitlines():
            if line.startswith("false alarms:"):
                result["expected_false_alarms_per_hour"] = float(
                    line.split()[2])
        listfile = os.path.join(args.out, "models", name + "-test.txt")
        with open(listfile, "w") as f:
            f.write("\n".join(os.path.join(args.data, c["file"])
                              for c in clips) + "\n")
        cmd = [os.path.join(args.build, "tools", "dae-score"), "-m", model,
               "--json", "@" + listfile]
        cpu0, t0 = children_cpu(), time.time()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        result["score_wall_seconds"] = time.time() - t0
        result["score_cpu_seconds"] = children_cpu() - cpu0
        if p.returncode != 0:
            raise RuntimeError("dae-score failed for %s:\n%s"
                               % (name, p.stderr[-2000:]))
        result["score_command"] = " ".join(shlex.quote(a)
                                           for a in cmd[:-1]) \
            + " @<test file list>"
        doc = json.loads(p.stdout)
        result["threshold"] = doc["threshold"]
        result["score_definition"] = doc["score"]
        for fr in doc["files"]:
            key = rel[fr["file"]]
            scores[key] = fr["score"]
            variants["bands"][key] = fr["bands_score"]
            variants["frames"][key] = fr["frames_score"]
            variants["mean"][key] = fr["mean_score"]
            variants["max"][key] = fr["max_score"]
            proc_cpu += fr["cpu_seconds"]
            audio += fr["audio_seconds"]
            if label[key] == "normal":
                alarms["normal_seconds"] += fr["audio_seconds"]
                alarms["normal_alarms"] += len(fr["anomalies"])
                alarms["normal_clips"] += 1
                alarms["normal_clips_with_alarm"] += bool(fr["anomalies"])
            else:
                alarms["anomalous_clips"] += 1
                alarms["anomalous_clips_with_alarm"] += bool(fr["anomalies"])
        score_cpu += result["score_cpu_seconds"]
        models.append(result)
    times = {
        "models": models,
        "score_cpu_seconds_per_clip": score_cpu / len(test_clips),
        "processor_cpu_seconds_per_clip": proc_cpu / len(test_clips),
        "rtf": proc_cpu / audio,
        "audio_seconds": audio,
        "detector": alarms,
    }
    alarms["false_alarms_per_hour"] = alarms["normal_alarms"] * 3600.0 \
        / max(alarms["normal_seconds"], 1e-9)
    if all("train_seconds" in m for m in models):
        times["train_seconds"] = sum(m["train_seconds"] for m in models)
        times["train_cpu_seconds"] = sum(m["train_cpu_seconds"]
                                         for m in models)
    return scores, variants, times


def write_wav16(path, x, rate):
    import wave
    y = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(y.tobytes())


def score_files(args, model, files, listfile):
    """dae-score --json over files: {file: score}."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    with open(listfile, "w") as f:
        f.write("\n".join(files) + "\n")
    p = subprocess.run([os.path.join(args.build, "tools", "dae-score"),
                        "-m", model, "--json", "@" + listfile],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("dae-score failed for %s:\n%s"
                           % (model, p.stderr[-2000:]))
    return {fr["file"]: fr["score"] for fr in json.loads(p.stdout)["files"]}


def online_unit(args, kind, unit, clips, rate, out):
    """Online learning against offline training on the same audio: the
    first --online seconds of the unit's normal training clips, joined
    into one file, are learned by daedenoise in a gst-launch-1.0 pipeline
    (learn-duration, element defaults, learned-model-file) and by
    `dae-train anomaly` (its defaults); both models score the unit's test
    clips."""
    train = sorted((c for c in clips if c["unit"] == unit
                    and c["split"] == "train"), key=lambda c: c["file"])
    test = [c for c in clips if c["unit"] == unit and c["split"] == "test"]
    need = int(args.online * rate)
    parts, n = [], 0
    for c in train:
        x, _ = B.read_wav(os.path.join(args.data, c["file"]))
        parts.append(x)
        n += len(x)
        if n >= need:
            break
    if n < need:
        raise RuntimeError("%s id_%02d: only %.1f s of normal audio for "
                           "--online %g" % (kind, unit, n / rate,
                                            args.online))
    name = "%s-id_%02d" % (kind, unit)
    wav = os.path.join(out, name + "-normal.wav")
    write_wav16(wav, np.concatenate(parts)[:need], rate)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1",
               GST_PLUGIN_PATH=os.path.join(args.build, "plugin"))
    online = os.path.join(out, name + "-online.dae")
    offline = os.path.join(out, name + "-offline.dae")
    ns = int(args.online * 1e9)
    cmds = {
        "online": ["gst-launch-1.0", "-q", "-e", "filesrc", "location=" + wav,
                   "!", "wavparse", "!", "audioconvert", "!", "daedenoise",
                   "learn-duration=%d" % ns, "learned-model-file=" + online,
                   "!", "fakesink"],
        "offline": [os.path.join(args.build, "tools", "dae-train"),
                    "anomaly", "--normal", wav, "-o", offline,
                    "--threads", "1", "--seed", str(args.seed)]
        + shlex.split(args.dae_args),
    }
    procs, result = {}, {"unit": unit}
    for k, cmd in cmds.items():
        log_file = open(os.path.join(out, "%s-%s.log" % (name, k)), "w")
        procs[k] = (subprocess.Popen(cmd, env=env, stdout=log_file,
                                     stderr=subprocess.STDOUT), time.time(),
                    log_file)
    for k, (p, t0, log_file) in procs.items():
        _, status, usage = os.wait4(p.pid, 0)
        log_file.close()
        result[k + "_train_seconds"] = time.time() - t0
        result[k + "_train_cpu_seconds"] = usage.ru_utime + usage.ru_stime
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("%s %s failed, see %s-%s.log"
                               % (name, k, os.path.join(out, name), k))
    files = [os.path.join(args.data, c["file"]) for c in test]
    y = [c["label"] == "anomaly" for c in test]
    for k, model in (("online", online), ("offline", offline)):
        s = score_files(args, model, files,
                        os.path.join(out, name + "-test.txt"))
        sc = [s[f] for f in files]
        result[k + "_auc"] = B.auc(y, sc)
        result[k + "_pauc"] = B.pauc(y, sc)
    result["commands"] = {k: " ".join(shlex.quote(a) for a in c)
                          for k, c in cmds.items()}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "bench", "out",
                                                   "anomaly", "data-seed2"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out",
                                                  "anomaly"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--kinds", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dcase-epochs", type=int, default=100)
    ap.add_argument("--pca-variance", type=float, default=0.9)
    ap.add_argument("--dae-args", default="",
                    help="extra dae-train options (experiments)")
    ap.add_argument("--dae-per-unit", action="store_true",
                    help="train one dae model per unit instead of per kind")
    ap.add_argument("--skip-dcase", action="store_true")
    ap.add_argument("--online", type=float, default=60.0,
                    help="seconds of normal audio for the online-learning "
                    "comparison (0: skip it)")
    ap.add_argument("--online-units", type=int, default=2,
                    help="units per kind in the online comparison")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse trained dae models in OUT/models")
    args = ap.parse_args()
    # dae-score reads the paths of an @list relative to the list's folder
    args.data = os.path.abspath(args.data)
    args.out = os.path.abspath(args.out)
    args.build = os.path.abspath(args.build)

    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)
    kinds = [k for k in (args.kinds.split(",") if args.kinds
                         else manifest["kinds"]) if k]
    systems = ["dae", "dcase", "pca", "rms"]
    if args.skip_dcase:
        systems.remove("dcase")
    results = {"dataset": {k: manifest[k] for k in
                           ("seed", "rate", "clip_seconds", "units",
                            "train_per_unit", "test_per_unit", "anomalies",
                            "background_sources")},
               "settings": {"dcase_epochs": args.dcase_epochs,
                            "pca_variance": args.pca_variance,
                            "dae_args": args.dae_args, "seed": args.seed,
                            "dae_per_unit": args.dae_per_unit},
               "kinds": {}}
    for kind in kinds:
        clips = [c for c in manifest["clips"] if c["kind"] == kind]
        train = [c for c in clips if c["split"] == "train"]
        test = [c for c in clips if c["split"] == "test"]
        units = sorted({c["unit"] for c in clips})
        kr = {"systems": {}, "times": {}}
        log("== %s: %d train, %d test clips" % (kind, len(train), len(test)))

        # dae trains in a thread (dae-train on one core) while the
        # baselines train here (numpy on the other)
        groups = dae_groups(args, kind, units, test)
        dae_results = {}
        trainer = threading.Thread(target=train_dae,
                                   args=(args, groups, dae_results))
        trainer.start()

        cpu0, t0 = self_cpu(), time.time()
        feats = {}
        rms = {}
        for c in clips:
            x, _ = B.read_wav(os.path.join(args.data, c["file"]))
            feats[c["file"]] = B.logmel_vectors(x)
            if c["split"] == "test":
                rms[c["file"]] = B.rms_db(x)
        feat_cpu = (self_cpu() - cpu0) / len(clips)
        data = np.concatenate([feats[c["file"]] for c in train])

        if "dcase" in systems:
            cpu0, t0 = self_cpu(), time.time()
            ae = B.DcaseAutoencoder(data.shape[1], seed=args.seed)
            hist = ae.fit(data, args.dcase_epochs)
            train_wall, train_cpu = time.time() - t0, self_cpu() - cpu0
            cpu0 = self_cpu()
            s = {c["file"]: ae.file_score(feats[c["file"]]) for c in test}
            score_cpu = (self_cpu() - cpu0) / len(test) + feat_cpu
            kr["systems"]["dcase"] = unit_metrics(test, s)
            kr["times"]["dcase"] = {
                "train_seconds": train_wall, "train_cpu_seconds": train_cpu,
                "score_cpu_seconds_per_clip": score_cpu,
                "final_loss": hist[-1][0], "final_val_loss": hist[-1][1],
                "vectors": int(len(data))}
            log("dcase: AUC %.3f pAUC %.3f (train %.0f s, loss %.2f/%.2f)"
                % (kr["systems"]["dcase"]["auc"],
                   kr["systems"]["dcase"]["pauc"], train_wall, hist[-1][0],
                   hist[-1][1]))

        cpu0, t0 = self_cpu(), time.time()
        pca = B.Pca(args.pca_variance).fit(data)
        train_wall, train_cpu = time.time() - t0, self_cpu() - cpu0
        cpu0 = self_cpu()
        s = {c["file"]: pca.file_score(feats[c["file"]]) for c in test}
        kr["systems"]["pca"] = unit_metrics(test, s)
        kr["times"]["pca"] = {
            "train_seconds": train_wall, "train_cpu_seconds": train_cpu,
            "score_cpu_seconds_per_clip": (self_cpu() - cpu0) / len(test)
            + feat_cpu, "components": pca.k}
        kr["systems"]["rms"] = unit_metrics(test, rms)

        trainer.join()
        scores, variants, info = score_dae(args, groups, dae_results, test)
        kr["systems"]["dae"] = unit_metrics(test, scores)
        kr["dae_score_variants"] = {v: unit_metrics(test, s)["auc"]
                                    for v, s in variants.items()}
        kr["times"]["dae"] = info
        log("dae: AUC %.3f pAUC %.3f (train %.0f s, RTF %.4f)"
            % (kr["systems"]["dae"]["auc"], kr["systems"]["dae"]["pauc"],
               info.get("train_seconds", float("nan")), info["rtf"]))
        results["kinds"][kind] = kr

    if args.online > 0:
        out = os.path.join(args.out, "online")
        os.makedirs(out, exist_ok=True)
        for kind in kinds:
            clips = [c for c in manifest["clips"] if c["kind"] == kind]
            units = sorted({c["unit"] for c in clips})[:args.online_units]
            per = [online_unit(args, kind, u, clips, manifest["rate"], out)
                   for u in units]
            kr = results["kinds"][kind]
            kr["online"] = {
                "units": per,
                "online_auc": float(np.mean([r["online_auc"] for r in per])),
                "offline_auc": float(np.mean([r["offline_auc"]
                                              for r in per])),
                "online_pauc": float(np.mean([r["online_pauc"]
                                              for r in per])),
                "offline_pauc": float(np.mean([r["offline_pauc"]
                                               for r in per]))}
            log("online %s: AUC online %.3f, offline %.3f" % (
                kind, kr["online"]["online_auc"],
                kr["online"]["offline_auc"]))

    def mean_over(system, key):
        vals = [results["kinds"][k]["systems"][system][key] for k in kinds
                if system in results["kinds"][k]["systems"]]
        return float(np.mean(vals)) if vals else float("nan")

    results["mean"] = {s: {"auc": mean_over(s, "auc"),
                           "pauc": mean_over(s, "pauc")} for s in systems}
    rtf = [results["kinds"][k]["times"]["dae"]["rtf"] for k in kinds]
    results["dae_rtf"] = float(np.mean(rtf))

    # table
    head = "%-9s" % "kind" + "".join("%16s" % s for s in systems)
    lines = ["AUC / pAUC (FPR <= 0.1, area / 0.1), mean over units",
             head, "-" * len(head)]
    for k in kinds + ["mean"]:
        row = "%-9s" % k
        for s in systems:
            m = results["mean"][s] if k == "mean" else \
                results["kinds"][k]["systems"][s]
            row += "%16s" % ("%.3f / %.3f" % (m["auc"], m["pauc"]))
        lines.append(row)
    lines.append("")
    lines.append("AUC per anomaly type (dae / dcase / pca)")
    for k in kinds:
        sy = results["kinds"][k]["systems"]
        for t in sorted(sy["dae"]["types"]):
            lines.append("  %-8s %-15s %.3f / %s / %.3f" % (
                k, t, sy["dae"]["types"][t],
                "%.3f" % sy["dcase"]["types"][t] if "dcase" in sy else "-",
                sy["pca"]["types"][t]))
    lines.append("")
    lines.append("times per kind: training (wall s), scoring CPU s per clip")
    for k in kinds:
        tm = results["kinds"][k]["times"]
        d = tm["dae"]
        row = "  %-8s dae train %s s, score %.3f s/clip (processor %.4f, " \
            "RTF %.4f)" % (k, "%.0f" % d["train_seconds"]
                            if "train_seconds" in d else "(reused)",
                            d["score_cpu_seconds_per_clip"],
                            d["processor_cpu_seconds_per_clip"], d["rtf"])
        if "dcase" in tm:
            row += "; dcase train %.0f s, score %.3f s/clip" % (
                tm["dcase"]["train_seconds"],
                tm["dcase"]["score_cpu_seconds_per_clip"])
        lines.append(row)
    lines.append("dae scoring real-time factor at 16 kHz (processor CPU s per "
                 "audio s, one thread): %.4f" % results["dae_rtf"])
    lines.append("dae's calibrated detector (threshold, 0.2 s hold) on the "
                 "test clips: false alarms per hour of normal audio "
                 "(expected from calibration), share of anomalous clips "
                 "with an alarm")
    for k in kinds:
        d = results["kinds"][k]["times"]["dae"]["detector"]
        expected = [m.get("expected_false_alarms_per_hour")
                    for m in results["kinds"][k]["times"]["dae"]["models"]]
        lines.append("  %-8s %.1f per hour (%s), %d of %d anomalous clips"
                     % (k, d["false_alarms_per_hour"],
                        ", ".join("%.3g" % e for e in expected
                                  if e is not None),
                        d["anomalous_clips_with_alarm"],
                        d["anomalous_clips"]))
    lines.append("dae AUC with other file scores (bands is the default):")
    for k in kinds:
        v = results["kinds"][k]["dae_score_variants"]
        lines.append("  %-8s " % k + ", ".join("%s %.3f" % (n, v[n])
                                                for n in sorted(v)))
    if args.online > 0:
        lines.append("online learning (daedenoise learn-duration=%g s, "
                     "element defaults) against offline training "
                     "(dae-train anomaly) on the same %g s of one unit's "
                     "normal audio, AUC / pAUC, mean over %d units per kind"
                     % (args.online, args.online, args.online_units))
        for k in kinds:
            o = results["kinds"][k]["online"]
            lines.append("  %-8s online %.3f / %.3f, offline %.3f / %.3f"
                         % (k, o["online_auc"], o["online_pauc"],
                            o["offline_auc"], o["offline_pauc"]))
        on = float(np.mean([results["kinds"][k]["online"]["online_auc"]
                            for k in kinds]))
        off = float(np.mean([results["kinds"][k]["online"]["offline_auc"]
                             for k in kinds]))
        results["online_mean"] = {"online_auc": on, "offline_auc": off}
        lines.append("  %-8s online %.3f, offline %.3f (difference %+.3f)"
                     % ("mean", on, off, on - off))
    if "dcase" in systems:
        gain = results["mean"]["dae"]["auc"] - results["mean"]["dcase"]["auc"]
        every = all(results["kinds"][k]["systems"]["dae"]["auc"]
                    > results["kinds"][k]["systems"]["dcase"]["auc"]
                    for k in kinds)
        results["targets"] = {
            "mean_auc_gain_over_dcase": gain,
            "mean_auc_gain_at_least_0.05": gain >= 0.05,
            "above_dcase_on_every_kind": every,
            "rtf_at_most_0.01": results["dae_rtf"] <= 0.01}
        if args.online > 0:
            results["targets"]["online_within_0.05_of_offline"] = \
                results["online_mean"]["online_auc"] >= \
                results["online_mean"]["offline_auc"] - 0.05
        lines.append("targets: mean AUC %+.3f over the DCASE baseline (>= "
                     "0.05: %s), above it on every kind: %s, RTF <= 0.01: %s"
                     % (gain, "yes" if gain >= 0.05 else "NO",
                        "yes" if every else "NO",
                        "yes" if results["dae_rtf"] <= 0.01 else "NO"))
    text = "\n".join(lines)
    print(text)
    results["table"] = text
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.json")
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)
    log("wrote %s" % path)


if __name__ == "__main__":
    sys.exit(main())
