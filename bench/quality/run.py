#!/usr/bin/python3
"""Runs every system on the evaluation set, scores them and prints tables.

Usage: bench/quality/run.py [--evalset DIR] [--out DIR] [--systems LIST]
                            [--rates 16000,48000] [--model16 F] [--model48 F]
                            [--jobs N] [--no-rtf] [--rtf-runs N]
                            [--clean-pass]

Systems: noisy (the input, unprocessed), daedenoise (gst-launch-1.0),
webrtcdsp (gst-launch-1.0, noise-suppression-level=very-high, everything
else off), speexdsp (bench/quality/speex-denoise.c, denoise only, 10 ms
frames) and rnnoise (npm @echogarden/rnnoise-wasm under node, 48 kHz only,
so 16 kHz input is resampled to 48 kHz and back with sox around it).

Each output is delay-compensated before scoring: per item, the lag within
+-50 ms that maximises the cross-correlation with the clean speech; the
system's delay is the median over the items of a rate, applied to all of
them.  Metrics per item: SI-SDR, SI-SDR improvement over the noisy input,
STOI, ESTOI, and ESTOI of the quietest 20 % of the speech segments (an
ear-proxy for clipped onsets and musical noise on weak speech).

Real-time factor: CPU seconds (user + system of the child processes, one
OpenBLAS thread) per second of audio, measured over the whole evaluation
set of a rate concatenated into one file, minus the same run through a
passthrough baseline (the pipeline without the element; the harness with
--bypass).  Each system runs --rtf-runs times (default 3), each run
followed by its baseline; the figure is the median of the runs, and
results.json keeps every run's (single runs of the same element and model
have read from 0.0085 to 0.0138 on this project's machine).
For rnnoise at 16 kHz the sox resampling is not counted.

--clean-pass also runs each system on the clean speech of every item alone
(no noise added) and reports the SI-SDR of its output against that input,
delay-compensated as above, per speaker: how much of the speech itself a
system removes or distorts.  At 20 dB SNR a system cannot improve on the
noisy input by more than this allows, so a low figure for one speaker
points at speech (unvoiced consonants, coughs, shouts) the model takes for
noise.  Figures are capped at 60 dB.

Writes the outputs to OUT/outputs/SYSTEM/RATEk/*.wav and all results to
OUT/results.json.  Needs the setup of bench/quality/setup.sh.
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import metrics  # noqa: E402

ALL_SYSTEMS = ["noisy", "daedenoise", "webrtcdsp", "speexdsp", "rnnoise"]
PEERS = ["webrtcdsp", "speexdsp", "rnnoise"]
MAX_DELAY_S = 0.050
CLEAN_PASS_CAP_DB = 60.0

WEBRTC_PROPS = ("echo-cancel=false gain-control=false high-pass-filter=false "
                "voice-detection=false extended-filter=false "
                "delay-agnostic=false experimental-agc=false limiter=false "
                "noise-suppression=true noise-suppression-level=very-high")


def log(*args):
    print("run:", *args, file=sys.stderr, flush=True)


# ----------------------------------------------------------------- audio I/O

def read_wav(path):
    with wave.open(path) as w:
        if w.getsampwidth() != 2:
            raise ValueError("%s: not 16-bit PCM" % path)
        rate, ch = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    x = x.astype(np.float64) / 32768.0
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, rate


def write_wav(path, x, rate):
    pcm = np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (
            cmd[0], r.returncode, r.stderr.decode(errors="replace").strip()[-500:]))
    return r


# ------------------------------------------------------------------- systems

class Systems:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.join(args.tools, "bin", "speex-denoise")
        self.rnnoise_js = os.path.join(args.tools, "node", "node_modules", "@echogarden",
                                       "rnnoise-wasm", "rnnoise.js")
        self.rnnoise_mjs = os.path.join(HERE, "rnnoise-denoise.mjs")

    def model(self, rate):
        return self.args.model16 if rate == 16000 else self.args.model48

    def gst(self, element, inp, out, rate, fmt):
        # element None: the same pipeline without it (RTF baseline)
        cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + inp, "!", "wavparse",
               "!", "audioconvert", "!", "audioresample", "!",
               "audio/x-raw,format=%s,channels=1,rate=%d" % (fmt, rate)]
        if element is not None:
            cmd += ["!"] + element
        cmd += ["!", "audioconvert", "!", "audio/x-raw,format=S16LE", "!", "wavenc",
                "!", "filesink", "location=" + out]
        run(cmd)

    def element(self, system, rate):
        if system == "daedenoise":
            el = ["daedenoise"]
            if self.model(rate):
                el.append("model-file=" + self.model(rate))
            return el, "F32LE"
        if system == "webrtcdsp":
            return ["webrtcdsp"] + WEBRTC_PROPS.split(), "S16LE"
        raise ValueError(system)

    def process(self, system, inp, out, rate, bypass=False):
        """Denoises WAV inp into WAV out (bypass: the RTF baseline)."""
        if system in ("daedenoise", "webrtcdsp"):
            el, fmt = self.element(system, rate)
            self.gst(None if bypass else el, inp, out, rate, fmt)
        elif system == "speexdsp":
            with wave.open(inp) as w:
                raw = w.readframes(w.getnframes())
            cmd = [self.bin, str(rate)] + (["--bypass"] if bypass else [])
            pcm = run(cmd, input=raw).stdout
            with wave.open(out, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(rate)
                w.writeframes(pcm)
        elif system == "rnnoise":
            x, r = read_wav(inp)
            with tempfile.TemporaryDirectory() as tmp:
                a, b = os.path.join(tmp, "in.f32"), os.path.join(tmp, "out.f32")
                x.astype("<f4").tofile(a)
                if rate != 48000:
                    sox_rate(a, a + ".48k", rate, 48000)
                    a = a + ".48k"
                run(["node", self.rnnoise_mjs, self.rnnoise_js, a, b]
                    + (["--bypass"] if bypass else []))
                if rate != 48000:
                    sox_rate(b, b + ".back", 48000, rate)
                    b = b + ".back"
                y = np.fromfile(b, dtype="<f4").astype(np.float64)
            write_wav(out, y, rate)
        else:
            raise ValueError(system)

    def rtf_cmd_cpu(self, system, inp, rate, bypass, tmp):
        """CPU seconds of the child processes doing system's work on inp."""
        out = os.path.join(tmp, "rtf-out.wav")
        if system == "rnnoise":
            x, _ = read_wav(inp)
            a, b = os.path.join(tmp, "rtf.f32"), os.path.join(tmp, "rtf-out.f32")
            x.astype("<f4").tofile(a)
            if rate != 48000:
                sox_rate(a, a + ".48k", rate, 48000)
                a = a + ".48k"
            t0 = os.times()
            run(["node", self.rnnoise_mjs, self.rnnoise_js, a, b]
                + (["--bypass"] if bypass else []))
            t1 = os.times()
        elif system == "speexdsp":
            raw_in = os.path.join(tmp, "rtf.s16")
            with wave.open(inp) as w, open(raw_in, "wb") as f:
                f.write(w.readframes(w.getnframes()))
            t0 = os.times()
            with open(raw_in, "rb") as fi, open(os.path.join(tmp, "rtf-out.s16"), "wb") as fo:
                subprocess.run([self.bin, str(rate)] + (["--bypass"] if bypass else []),
                               stdin=fi, stdout=fo, stderr=subprocess.DEVNULL, check=True)
            t1 = os.times()
        else:
            t0 = os.times()
            self.process(system, inp, out, rate, bypass=bypass)
            t1 = os.times()
        return (t1.children_user - t0.children_user) + \
            (t1.children_system - t0.children_system)


def process_items(sysobj, system, items, field, odir, rate, args):
    """Runs system on the item[field] file of every item (args.jobs at
    once), writing ODIR/NAME.wav; returns {name: output samples}."""
    def one(i):
        o = os.path.join(odir, i["name"] + ".wav")
        sysobj.process(system, os.path.join(args.evalset, i[field]), o, rate)
        return i["name"], read_wav(o)[0]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        return dict(pool.map(one, items))


def sox_rate(a, b, r_in, r_out):
    run(["sox", "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r",
         str(r_in), a, "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1",
         "-r", str(r_out), b, "rate", "-v"])


# ------------------------------------------------------------------- scoring

def score_item(job):
    """job: (system, item, clean, noisy, output, rate, delay) -> result row."""
    system, item, clean, noisy, out, rate, delay = job
    y = metrics.align(out, delay, len(clean))
    stoi, estoi, estoi_low = metrics.intelligibility(clean, y, rate)
    sdr = metrics.si_sdr(clean, y)
    return {"system": system, "name": item["name"], "kind": item["kind"],
            "snr": item["snr"], "si_sdr": sdr, "si_sdri": sdr - metrics.si_sdr(clean, noisy),
            "stoi": stoi, "estoi": estoi, "estoi_low": estoi_low}


def mean(vals):
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def summarise(rows, key_fn):
    groups = {}
    for r in rows:
        groups.setdefault(key_fn(r), []).append(r)
    return {k: {m: mean([r[m] for r in g]) for m in
                ("si_sdr", "si_sdri", "stoi", "estoi", "estoi_low")} | {"n": len(g)}
            for k, g in groups.items()}


def clean_pass_item(job):
    """job: (system, item, clean, output, delay) -> (system, name, speaker, dB)."""
    system, item, clean, out, delay = job
    y = metrics.align(out, delay, len(clean))
    return (system, item["name"], item.get("speaker", "?"),
            min(CLEAN_PASS_CAP_DB, metrics.si_sdr(clean, y)))


def print_clean_pass(rate, systems, table, speakers):
    print()
    print("Clean pass, %d Hz: SI-SDR (dB) of each system's output for the clean "
          "speech alone, mean per speaker (lowest item)" % rate)
    for s in systems:
        print("  %s:" % s)
        for spk in speakers:
            v = table[s][spk]
            print("    %-28s %6.2f (%6.2f)" % (spk, v["mean"], v["min"]))
        print("    %-28s %6.2f (%6.2f)" % ("all", table[s]["all"]["mean"],
                                          table[s]["all"]["min"]))


# -------------------------------------------------------------------- tables

def print_tables(rate, systems, summary, rtf, delays, kinds, snrs):
    print()
    print("=" * 78)
    print("%d Hz  (%d items, %.0f s of audio)" % (
        rate, summary["noisy"]["all"]["n"], summary["_seconds"]))
    print("=" * 78)
    print("%-11s %8s %8s %7s %7s %8s %8s %9s" % (
        "system", "SI-SDR", "SI-SDRi", "STOI", "ESTOI", "ESTOIq20", "delay", "RTF"))
    for s in systems:
        a = summary[s]["all"]
        r = rtf.get(s)
        print("%-11s %8.2f %8.2f %7.3f %7.3f %8.3f %6.1fms %9s" % (
            s, a["si_sdr"], a["si_sdri"], a["stoi"], a["estoi"], a["estoi_low"],
            1000.0 * delays.get(s, 0) / rate,
            ("%.5f" % r) if isinstance(r, float) else (r or "-")))
    for title, key, labels in (("per SNR bucket (dB)", "snr", snrs),
                               ("per noise kind", "kind", kinds)):
        for metric, fmt in (("si_sdri", "%7.2f"), ("estoi", "%7.3f"),
                            ("si_sdr", "%7.2f"), ("stoi", "%7.3f")):
            print()
            print("%s, %s" % (metric.upper().replace("_", "-"), title))
            print("%-11s" % key + "".join("%8s" % str(l) for l in labels))
            for s in systems:
                print("%-11s" % s + "".join(
                    " " + fmt % summary[s][key][l][metric] for l in labels))


def target_checks(rate, summary, systems, kinds, snrs, rtf):
    """The issue's targets for daedenoise, PASS/FAIL lines."""
    if "daedenoise" not in systems or "noisy" not in systems:
        return []
    d, n = summary["daedenoise"], summary["noisy"]
    peers = [p for p in PEERS if p in systems]
    lines = []

    def check(ok, text):
        lines.append("%s  %d Hz: %s" % ("PASS" if ok else "FAIL", rate, text))

    check(d["all"]["si_sdri"] >= 6.0, "mean SI-SDRi %.2f dB >= 6" % d["all"]["si_sdri"])
    if peers:
        worst = min(d["snr"][b]["si_sdri"] - max(summary[p]["snr"][b]["si_sdri"]
                                                 for p in peers) for b in snrs)
        check(worst >= 2.0, "SI-SDRi minus best peer, worst SNR bucket %.2f dB >= 2" % worst)
    worst_kind = min(kinds, key=lambda k: d["kind"][k]["si_sdri"])
    check(d["kind"][worst_kind]["si_sdri"] > 0,
          "no noise kind worse than noisy (lowest SI-SDRi: %s %.2f dB)" % (
              worst_kind, d["kind"][worst_kind]["si_sdri"]))
    worst_b = min(snrs, key=lambda b: d["snr"][b]["estoi"] - n["snr"][b]["estoi"])
    check(d["snr"][worst_b]["estoi"] > n["snr"][worst_b]["estoi"],
          "ESTOI above noisy in every SNR bucket (worst: %s dB, %+.3f)" % (
              worst_b, d["snr"][worst_b]["estoi"] - n["snr"][worst_b]["estoi"]))
    if rate == 48000 and isinstance(rtf.get("daedenoise"), float):
        runs = rtf.get("daedenoise_detail", {}).get("runs", [])
        spread = " (runs %s)" % ", ".join("%.5f" % r for r in runs) if len(runs) > 1 else ""
        check(rtf["daedenoise"] <= 0.01, "RTF %.5f <= 0.01%s" % (rtf["daedenoise"], spread))
    return lines


# ---------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evalset", default=os.path.join(ROOT, "bench", "out", "evalset"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    ap.add_argument("--tools", default=os.path.join(ROOT, "bench", "out"),
                    help="where setup.sh put bin/speex-denoise and node/")
    ap.add_argument("--build", default=os.environ.get("BUILD") or os.path.join(ROOT, "build"),
                    help="meson build dir whose plugin/ holds libgstdae.so")
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS))
    ap.add_argument("--rates", default="16000,48000")
    ap.add_argument("--model16", default=os.environ.get("MODEL16") or None)
    ap.add_argument("--model48", default=os.environ.get("MODEL48") or None)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-rtf", action="store_true")
    ap.add_argument("--rtf-runs", type=int, default=3,
                    help="real-time factor runs per system; the median is reported")
    ap.add_argument("--clean-pass", action="store_true",
                    help="also run the systems on the clean speech alone and "
                    "report how much of it each keeps (SI-SDR per speaker)")
    args = ap.parse_args()
    args.out = os.path.abspath(args.out)
    for m in ("model16", "model48"):
        if getattr(args, m):
            setattr(args, m, os.path.abspath(getattr(args, m)))
    systems = args.systems.split(",")
    for s in systems:
        if s not in ALL_SYSTEMS:
            sys.exit("run: unknown system '%s' (known: %s)" % (s, ", ".join(ALL_SYSTEMS)))
    if "noisy" not in systems:
        systems.insert(0, "noisy")
    rates = [int(r) for r in args.rates.split(",")]
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    plugin_dir = os.path.join(os.path.abspath(args.build), "plugin")
    os.environ["GST_PLUGIN_PATH"] = plugin_dir + (
        ":" + os.environ["GST_PLUGIN_PATH"] if os.environ.get("GST_PLUGIN_PATH") else "")

    manifest = json.load(open(os.path.join(args.evalset, "manifest.json")))
    kinds, snrs = manifest["kinds"], manifest["snrs"]
    sysobj = Systems(args)
    results = {"evalset": args.evalset, "seed": manifest["seed"],
               "models": {"16000": args.model16 or "embedded default",
                          "48000": args.model48 or "embedded default"},
               "rates": {}}
    checks = []
    t_start = time.time()

    for rate in rates:
        items = [i for i in manifest["items"] if i["rate"] == rate]
        if not items:
            continue
        sub = "%dk" % (rate // 1000)
        clean = {i["name"]: read_wav(os.path.join(args.evalset, i["clean"]))[0]
                 for i in items}
        noisy = {i["name"]: read_wav(os.path.join(args.evalset, i["noisy"]))[0]
                 for i in items}
        seconds = sum(len(x) for x in noisy.values()) / rate
        outputs = {"noisy": noisy}
        failed = {}

        # -- process
        for s in systems:
            if s == "noisy":
                continue
            odir = os.path.join(args.out, "outputs", s, sub)
            os.makedirs(odir, exist_ok=True)
            log("%d Hz: %s on %d items" % (rate, s, len(items)))
            t0 = time.time()

            try:
                outputs[s] = process_items(sysobj, s, items, "noisy", odir, rate, args)
            except Exception as e:  # noqa: BLE001  a peer failing must not stop the run
                log("%d Hz: %s FAILED: %s" % (rate, s, e))
                failed[s] = str(e)
            log("%d Hz: %s done in %.1f s" % (rate, s, time.time() - t0))
        active = [s for s in systems if s not in failed]

        # -- delays
        delays = {}
        for s in active:
            lags = [metrics.estimate_delay(clean[n], outputs[s][n],
                                           int(MAX_DELAY_S * rate)) for n in clean]
            delays[s] = int(statistics.median(lags))
            spread = sum(1 for l in lags if abs(l - delays[s]) > rate // 1000)
            if spread:
                log("%d Hz: %s: %d of %d items disagree with the median delay %d" % (
                    rate, s, spread, len(lags), delays[s]))

        # -- score
        log("%d Hz: scoring" % rate)
        jobs = [(s, i, clean[i["name"]], noisy[i["name"]], outputs[s][i["name"]],
                 rate, delays[s]) for s in active for i in items]
        with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(score_item, jobs, chunksize=4))

        # -- real-time factors
        rtf = {s: "failed" for s in failed}
        if not args.no_rtf:
            with tempfile.TemporaryDirectory(dir=args.out) as tmp:
                whole = os.path.join(tmp, "whole.wav")
                write_wav(whole, np.concatenate([noisy[i["name"]] for i in items]), rate)
                for s in active:
                    if s == "noisy":
                        continue
                    log("%d Hz: real-time factor of %s" % (rate, s))
                    cpu, base, runs = [], [], []
                    for _ in range(max(1, args.rtf_runs)):
                        cpu.append(sysobj.rtf_cmd_cpu(s, whole, rate, False, tmp))
                        base.append(sysobj.rtf_cmd_cpu(s, whole, rate, True, tmp))
                        runs.append((cpu[-1] - base[-1]) / seconds)
                    rtf[s] = statistics.median(runs)
                    rtf[s + "_detail"] = {"cpu_s": cpu, "baseline_cpu_s": base,
                                          "audio_s": seconds, "runs": runs}

        # -- clean pass: the clean speech alone through each system
        clean_pass = {}
        if args.clean_pass:
            cp_systems = [s for s in active if s != "noisy"]
            cp_out = {}
            for s in cp_systems:
                odir = os.path.join(args.out, "outputs", s, sub + "-clean")
                os.makedirs(odir, exist_ok=True)
                log("%d Hz: %s on the clean speech of %d items" % (rate, s, len(items)))
                try:
                    cp_out[s] = process_items(sysobj, s, items, "clean", odir, rate, args)
                except Exception as e:  # noqa: BLE001
                    log("%d Hz: %s on clean speech FAILED: %s" % (rate, s, e))
            jobs = [(s, i, clean[i["name"]], cp_out[s][i["name"]], delays[s])
                    for s in cp_out for i in items]
            with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
                cp_rows = list(pool.map(clean_pass_item, jobs, chunksize=4))
            speakers = sorted({r[2] for r in cp_rows})
            for s in cp_out:
                mine = [r for r in cp_rows if r[0] == s]
                clean_pass[s] = {spk: {"mean": mean([r[3] for r in mine if r[2] == spk]),
                                       "min": min(r[3] for r in mine if r[2] == spk)}
                                 for spk in speakers}
                clean_pass[s]["all"] = {"mean": mean([r[3] for r in mine]),
                                        "min": min(r[3] for r in mine)}
                clean_pass[s]["items"] = {r[1]: r[3] for r in mine}

        summary = {"_seconds": seconds}
        for s in active:
            mine = [r for r in rows if r["system"] == s]
            summary[s] = {"all": summarise(mine, lambda r: "all")["all"],
                          "snr": summarise(mine, lambda r: r["snr"]),
                          "kind": summarise(mine, lambda r: r["kind"])}
        print_tables(rate, active, summary, rtf, delays, kinds, snrs)
        if clean_pass:
            print_clean_pass(rate, list(clean_pass), clean_pass, speakers)
        c = target_checks(rate, summary, active, kinds, snrs, rtf)
        checks += c
        results["rates"][str(rate)] = {
            "audio_seconds": seconds, "failed": failed,
            "delay_samples": delays, "rtf": rtf, "checks": c,
            "summary": {s: {"all": summary[s]["all"],
                            "snr": {str(k): v for k, v in summary[s]["snr"].items()},
                            "kind": summary[s]["kind"]} for s in active},
            "items": rows,
        }
        if clean_pass:
            results["rates"][str(rate)]["clean_pass"] = clean_pass

    if checks:
        print()
        print("Targets (issue 4) for daedenoise:")
        for line in checks:
            print("  " + line)
    path = os.path.join(args.out, "results.json")
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1, default=float)
    os.replace(path + ".tmp", path)
    print()
    print("results: %s  (%.0f s)" % (path, time.time() - t_start))


if __name__ == "__main__":
    main()
