#!/usr/bin/python3
"""Builds the denoising evaluation set, deterministically from a seed.

Usage: bench/quality/make-evalset.py [--out DIR] [--seed N] [--per-cell N]
                                     [--rates 16000,48000]

Clean speech and recorded noise come only from the sources held out of
training.  The held-out lists are the ones models/prepare-data.py writes to
bench/eval-sources.txt ("speech16 DIR", "speech48 FILE", "noise FILE");
when that file is missing they are recomputed with the same code
(models/prepare-data.py imported: its voice/language hold-outs, its
full-band check and its hash split of the hedgewars recordings), and
written to DIR/eval-sources.txt.  The synthetic noises are
prepare-data.py's synth() with its evaluation seeds (1001 + 100 k + v).

Noise kinds (6) x SNRs (-5, 0, 5, 10, 15, 20 dB) x --per-cell utterances
of 3-4.5 s, at 16 and 48 kHz:
  stationary  white, pink or brown noise (synthetic)
  hum         50/60 Hz mains hum with harmonics (synthetic)
  babble      5 talkers, eval speakers only, never the target's clips
  machine     held-out hedgewars machine/ambient recordings, synthetic fan
  music       held-out hedgewars music
  clicks      synthetic clicks and keyboard, held-out impact recordings
SNR = 10 log10(sum clean^2 / sum noise^2) over the whole file (speech with
its 0.25 s lead-in/out and pauses), the noise high-passed at 40 Hz first.  Writes DIR/{16k,48k}/NAME-clean.wav
and NAME-noisy.wav (16-bit mono) and DIR/manifest.json.  Needs ffmpeg and
python3-numpy.
"""

import argparse
import hashlib
import importlib.util
import json
import math
import os
import subprocess
import sys
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import metrics  # noqa: E402

KINDS = ["stationary", "hum", "babble", "machine", "music", "clicks"]
SNRS = [-5, 0, 5, 10, 15, 20]
PAD_S = 0.25            # silence before and after the speech
GAP_S = 0.15            # silence between concatenated clips
MIN_S, MAX_S = 3.0, 4.5  # speech part of one utterance
BABBLE_TALKERS = 5
SPEECH_DBFS = -26.0     # RMS of the clean file before mixing
PEAK = 0.95             # mixtures are scaled down (with their clean) above
HIGHPASS_HZ = 40.0      # noise below this is removed before setting the SNR

# hedgewars sound effects by what they sound like; any held-out recording
# not named here counts as "machine" (continuous ambient/mechanical).
IMPULSIVE = {"baseballbat", "bump", "grenadeimpact", "hammer", "shutterclick",
             "switchhog", "skip", "mineimpact", "minetick", "graveimpact",
             "airmine_impact", "knife_impact", "melonimpact", "ropeattach",
             "roperelease", "steps", "placed", "sniperreload", "shotgunreload",
             "CollectCrate", "portalswitch", "portalopen", "Droplet1",
             "Droplet2", "Droplet3", "gun", "shotgunfire", "whipcrack",
             "throwrelease", "frozen_hog_impact", "rubberduck_drop",
             "beep", "egg"}
TONAL_SFX = {"1C", "2D", "3E", "4F", "5G", "6A", "7B", "8C", "9D"}  # notes


def log(*args):
    print("make-evalset:", *args, file=sys.stderr, flush=True)


def load_prepare_data():
    path = os.path.join(ROOT, "models", "prepare-data.py")
    if not os.path.exists(path):
        sys.exit("make-evalset: %s is missing: it defines the held-out "
                 "sources and the synthetic noise" % path)
    spec = importlib.util.spec_from_file_location("prepare_data", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def eval_sources(pd, out_dir, rates):
    """{'speech16': [dirs], 'speech48': [files], 'noise': [files]}."""
    listed = os.path.join(ROOT, "bench", "eval-sources.txt")
    src = {"speech16": [], "speech48": [], "noise": []}
    if os.path.exists(listed):
        log("held-out sources from", os.path.relpath(listed, ROOT))
        for line in open(listed):
            if line.startswith("#") or not line.strip():
                continue
            kind, path = line.rstrip("\n").split("\t", 1)
            src[kind].append(path)
        return src
    log("bench/eval-sources.txt missing: recomputing the held-out lists "
        "with models/prepare-data.py")
    src["speech16"] = [os.path.join(pd.ASTERISK, v) for v in pd.ASTERISK_EVAL]
    src["noise"] = sorted(pd.recorded_noise()[1])
    if 48000 not in rates:
        return src
    cands = []
    for v in pd.HEDGEWARS_EVAL_VOICES:
        cands += pd.audio_files(os.path.join(pd.HEDGEWARS, "Sounds", "voices", v))
    for lang in pd.KTUBERLING_EVAL_LANGS:
        cands += pd.audio_files(os.path.join(pd.KTUBERLING, lang))
    checked = {}
    cache = os.path.join(out_dir, "fullband-eval.tsv")
    if os.path.exists(cache):
        for line in open(cache):
            p, ok = line.rstrip("\n").split("\t")
            checked[p] = ok == "1"
    todo = [p for p in cands if p not in checked]
    if todo:
        log("checking %d held-out speech files for content above 8 kHz" % len(todo))
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            for p, ok, _ in pool.map(pd.check_fullband, todo):
                checked[p] = ok
        os.makedirs(out_dir, exist_ok=True)
        with open(cache, "w") as f:
            for p in sorted(checked):
                f.write("%s\t%d\n" % (p, checked[p]))
    src["speech48"] = sorted(p for p in cands if checked[p])
    with open(os.path.join(out_dir, "eval-sources.txt"), "w") as f:
        for k in ("speech16", "speech48", "noise"):
            for p in src[k]:
                f.write("%s\t%s\n" % (k, p))
    return src


def speech_groups(pd, src, rate):
    """{speaker: [clip files]} of the held-out speakers at rate (at 16 kHz
    without the prompts that are not speech, pd.asterisk_is_speech)."""
    groups = {}
    if rate == 16000:
        for d in src["speech16"]:
            files = sorted(os.path.join(d, f) for f in os.listdir(d)
                           if f.endswith(".g722")
                           and pd.asterisk_is_speech(f))
            groups["asterisk/" + os.path.basename(d)] = files
    else:
        for p in src["speech48"]:
            if "/voices/" in p:
                g = "hedgewars/" + p.split("/voices/")[1].split("/")[0]
            elif "/ktuberling/sounds/" in p:
                g = "ktuberling/" + p.split("/ktuberling/sounds/")[1].split("/")[0]
            else:
                g = os.path.dirname(p)
            groups.setdefault(g, []).append(p)
    return {g: sorted(v) for g, v in sorted(groups.items()) if v}


_decoded = {}


def decode(path, rate):
    key = (path, rate)
    if key not in _decoded:
        cmd = ["ffmpeg", "-v", "error", "-nostdin"]
        if path.endswith(".g722"):
            cmd += ["-f", "g722"]
        cmd += ["-i", path, "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
        raw = subprocess.run(cmd, capture_output=True, check=True).stdout
        _decoded[key] = np.frombuffer(raw, dtype=np.float32).astype(np.float64)
    return _decoded[key]


def trim_silence(x, rate, floor_db=-50.0):
    """Strips leading/trailing parts more than floor_db below the peak."""
    if len(x) == 0:
        return x
    hop = rate // 100
    n = len(x) // hop
    if n == 0:
        return x
    e = np.sqrt(np.mean(x[:n * hop].reshape(n, hop) ** 2, axis=1)) + 1e-12
    on = np.nonzero(20 * np.log10(e / e.max()) > floor_db)[0]
    if len(on) == 0:
        return x[:0]
    return x[max(on[0] - 2, 0) * hop:min(on[-1] + 3, n) * hop]


def make_utterance(rng, clips, rate):
    """Concatenates shuffled clips of one speaker to MIN_S..MAX_S seconds."""
    order = rng.permutation(len(clips))
    parts, used, total = [], [], 0.0
    gap = np.zeros(int(GAP_S * rate))
    for i in order:
        x = trim_silence(decode(clips[i], rate), rate)
        d = len(x) / rate
        if d < 0.2 or d > MAX_S:
            continue
        if total > 0 and total + GAP_S + d > MAX_S:
            continue
        if parts:
            parts.append(gap)
            total += GAP_S
        parts.append(x / (np.sqrt(np.mean(x ** 2)) + 1e-9))
        used.append(clips[i])
        total += d
        if total >= MIN_S:
            break
    pad = np.zeros(int(PAD_S * rate))
    return np.concatenate([pad] + parts + [pad]), used


def loop_to(rng, x, n):
    """n samples of x looped from a random offset."""
    if len(x) == 0:
        raise ValueError("empty noise")
    reps = int(math.ceil((n + len(x)) / len(x)))
    start = int(rng.integers(0, len(x)))
    return np.tile(x, reps)[start:start + n]


def scatter(rng, events, n, rate, per_second):
    """Events placed at Poisson times over n samples."""
    y = np.zeros(n)
    t = int(rng.exponential(rate / per_second))
    while t < n:
        e = events[int(rng.integers(len(events)))] * rng.uniform(0.3, 1.0)
        m = min(len(e), n - t)
        y[t:t + m] += e[:m]
        t += int(rng.exponential(rate / per_second)) + 1
    return y


class NoiseBank:
    def __init__(self, pd, src, groups, rate):
        self.pd = pd
        self.rate = rate
        self.groups = groups
        self._synth = {}
        self.music, self.machine, self.impulsive = [], [], []
        for p in src["noise"]:
            base = os.path.splitext(os.path.basename(p))[0]
            if "/Music/" in p:
                self.music.append(p)
            elif base in TONAL_SFX:
                continue
            elif base in IMPULSIVE:
                self.impulsive.append(p)
            else:
                self.machine.append(p)
        for name, lst in (("music", self.music), ("machine", self.machine),
                          ("impulsive", self.impulsive)):
            if not lst:
                sys.exit("make-evalset: no held-out %s recordings" % name)

    def synth(self, kind, variant):
        key = (kind, variant)
        if key not in self._synth:
            k = self.pd.SYNTH_KINDS.index(kind)
            x = self.pd.synth(kind, 1001 + 100 * k + variant)
            x = metrics.resample_fft(x, self.pd.SYNTH_RATE, self.rate)
            self._synth[key] = x
        return self._synth[key]

    def make(self, kind, rng, n, target_clips, item_index):
        """(noise of n samples, description)."""
        nv = self.pd.SYNTH_EVAL_VARIANTS
        if kind == "stationary":
            colour = ["white", "pink", "brown"][item_index % 3]
            v = int(rng.integers(nv))
            return loop_to(rng, self.synth(colour, v), n), "synth:%s-%d" % (colour, v + 1)
        if kind == "hum":
            h = ["hum50", "hum60"][item_index % 2]
            v = int(rng.integers(nv))
            return loop_to(rng, self.synth(h, v), n), "synth:%s-%d" % (h, v + 1)
        if kind == "babble":
            pool = [c for g in self.groups.values() for c in g if c not in target_clips]
            y = np.zeros(n)
            names = []
            for _ in range(BABBLE_TALKERS):
                parts, length = [], 0
                while length < n + self.rate:
                    c = pool[int(rng.integers(len(pool)))]
                    x = trim_silence(decode(c, self.rate), self.rate)
                    if len(x) < self.rate // 5:
                        continue
                    parts.append(x / (np.sqrt(np.mean(x ** 2)) + 1e-9))
                    names.append(os.path.basename(c))
                    length += len(x)
                s = np.concatenate(parts)
                start = int(rng.integers(0, len(s) - n + 1))
                y += s[start:start + n] * rng.uniform(0.5, 1.0)
            return y, "babble:%d talkers" % BABBLE_TALKERS
        if kind == "machine":
            if item_index % 4 == 3:
                v = int(rng.integers(nv))
                return loop_to(rng, self.synth("fan", v), n), "synth:fan-%d" % (v + 1)
            p = self.machine[item_index % len(self.machine)]
            x = trim_silence(decode(p, self.rate), self.rate)
            return loop_to(rng, x, n), "rec:" + os.path.relpath(p, "/usr/share")
        if kind == "music":
            p = self.music[item_index % len(self.music)]
            x = decode(p, self.rate)
            start = int(rng.integers(5 * self.rate, max(len(x) - n, 5 * self.rate + 1)))
            return x[start:start + n], "rec:" + os.path.relpath(p, "/usr/share")
        if kind == "clicks":
            sel = item_index % 3
            if sel < 2:
                k = ["clicks", "keyboard"][sel]
                v = int(rng.integers(nv))
                return loop_to(rng, self.synth(k, v), n), "synth:%s-%d" % (k, v + 1)
            events = [trim_silence(decode(p, self.rate), self.rate)
                      for p in self.impulsive]
            events = [e / (np.max(np.abs(e)) + 1e-9) for e in events if len(e)]
            floor = 0.003 * rng.standard_normal(n)
            return scatter(rng, events, n, self.rate, 2.0) + floor, \
                "rec:impacts(%d files)" % len(events)
        raise ValueError(kind)


def highpass(x, rate, hz):
    """Removes content below hz (raised-cosine edge over one octave).

    Brown noise and some recordings carry most of their power below 20 Hz,
    which nobody hears and no loudspeaker plays; left in, it would make the
    nominal SNR meaningless.  50/60 Hz hum is kept.
    """
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / rate)
    g = np.clip(np.log2(np.maximum(f, 1e-3) / (hz / 2)), 0.0, 1.0)
    spec *= 0.5 - 0.5 * np.cos(np.pi * g)
    return np.fft.irfft(spec, len(x))


def write_wav(path, x, rate):
    pcm = np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(path + ".tmp", "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    os.replace(path + ".tmp", path)


def item_rng(seed, name):
    h = hashlib.sha256(("%d:%s" % (seed, name)).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def build(args):
    pd = load_prepare_data()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    src = eval_sources(pd, out, args.rates)
    if args.speech16:
        # a diagnostic set: other voices, the same held-out noises
        log("16 kHz speech from --speech16, not the held-out voices")
        src["speech16"] = [os.path.abspath(d) for d in args.speech16]
    items = []
    for rate in args.rates:
        sub = "%dk" % (rate // 1000)
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        groups = speech_groups(pd, src, rate)
        if not groups:
            sys.exit("make-evalset: no held-out speech at %d Hz" % rate)
        log("%d Hz: speakers %s" % (rate, ", ".join(groups)))
        bank = NoiseBank(pd, src, groups, rate)
        speakers = list(groups)
        for ki, kind in enumerate(KINDS):
            for si, snr in enumerate(SNRS):
                for u in range(args.per_cell):
                    name = "%s-%s-%s%d-%d" % (sub, kind, "m" if snr < 0 else "p",
                                             abs(snr), u)
                    rng = item_rng(args.seed, name)
                    idx = si * args.per_cell + u
                    spk = speakers[(idx + ki) % len(speakers)]
                    clean, clips = make_utterance(rng, groups[spk], rate)
                    clean *= 10 ** (SPEECH_DBFS / 20) / np.sqrt(np.mean(clean ** 2))
                    noise, desc = bank.make(kind, rng, len(clean), set(clips), idx)
                    noise = highpass(noise, rate, HIGHPASS_HZ)
                    pn = np.sum(noise ** 2)
                    if pn <= 0:
                        sys.exit("make-evalset: silent noise for " + name)
                    noise *= math.sqrt(np.sum(clean ** 2) / (pn * 10 ** (snr / 10)))
                    noisy = clean + noise
                    peak = np.max(np.abs(noisy))
                    if peak > PEAK:
                        clean *= PEAK / peak
                        noisy *= PEAK / peak
                    cpath = os.path.join(sub, name + "-clean.wav")
                    npath = os.path.join(sub, name + "-noisy.wav")
                    write_wav(os.path.join(out, cpath), clean, rate)
                    write_wav(os.path.join(out, npath), noisy, rate)
                    items.append({
                        "name": name, "rate": rate, "kind": kind, "snr": snr,
                        "speaker": spk, "noise": desc,
                        "speech": [os.path.relpath(c, "/usr/share") for c in clips],
                        "seconds": round(len(clean) / rate, 3),
                        "clean": cpath, "noisy": npath,
                    })
        log("%d Hz: %d items, %.1f s of audio" % (
            rate, sum(1 for i in items if i["rate"] == rate),
            sum(i["seconds"] for i in items if i["rate"] == rate)))
    manifest = {"seed": args.seed, "per_cell": args.per_cell, "kinds": KINDS,
                "snrs": SNRS, "items": items}
    with open(os.path.join(out, "manifest.json.tmp"), "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(os.path.join(out, "manifest.json.tmp"),
               os.path.join(out, "manifest.json"))
    log("wrote", os.path.join(out, "manifest.json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "evalset"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-cell", type=int, default=4)
    ap.add_argument("--rates", default="16000,48000")
    ap.add_argument("--speech16", action="append", metavar="DIR",
                    help="use the .g722 prompts in DIR (repeatable) as the "
                    "16 kHz speech instead of the held-out voices: for "
                    "instance training voices, to see how much of the "
                    "score is voices the model has heard")
    args = ap.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    build(args)


if __name__ == "__main__":
    main()
