#!/usr/bin/python3
"""Builds the training/evaluation data cache for the default dae models.

Usage: models/prepare-data.py CACHE_DIR [--extra-voices]
                              [--eval-list bench/eval-sources.txt]

Everything comes from Debian packages (see models/README.md) and is
deterministic: sorted inputs, a hash-based split for noise files, fixed
speaker/language hold-outs for speech, seeded synthetic noise.  Writes

  CACHE/speech16/<lang>/...wav     asterisk G.722 prompts decoded to 16 kHz
  CACHE/joined{16,48}/<group>/     training utterances joined into ~20 s
                                   clips per speaker group
  CACHE/lists/speech-{16,48}k-extra.txt  (--extra-voices) more voices for
                                   the fine-tuning stage: klettres-data
                                   letters and syllables, at 16 kHz also
                                   the game voice clips that are not
                                   full-band (tried, not in the default
                                   recipe: models/README.md)
  CACHE/noise/synth-{train,eval}/  synthetic noises (48 kHz WAV)
  CACHE/noise/babble{16,48}-{train,eval}/  babble from train (eval) speakers
  CACHE/lists/*.txt                one absolute path per line
  CACHE/summary.txt                hours/minutes per list

Needs ffmpeg and python3-numpy (Debian's /usr/bin/python3).
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import wave

import numpy as np

ASTERISK = "/usr/share/asterisk/sounds"
# training and evaluation voices of the asterisk-core-sounds-*-g722 packages
ASTERISK_TRAIN = ["en_US_f_Allison", "es_MX_f_Allison", "fr_CA_f_June"]
ASTERISK_EVAL = ["it_IT_m_Carlo", "ru_RU_f_IvrvoiceRU"]
# prompts of those packages that are not speech: beeps, tone sequences,
# conference join/leave tones, a monkey recording, and the silence/
# directory.  They are left out of training and evaluation: a speech
# denoiser should remove a beep, not learn to keep it.
ASTERISK_NOT_SPEECH = {"beep", "beeperr", "ascending-2tone",
                       "descending-2tone", "confbridge-join",
                       "confbridge-leave", "tt-monkeys"}
ASTERISK_NOT_SPEECH_DIRS = {"silence"}

HEDGEWARS = "/usr/share/games/hedgewars/Data"
# hedgewars-data voice packs held out for evaluation (whole packs)
HEDGEWARS_EVAL_VOICES = ["Default_uk", "HillBilly", "Surfer"]
KTUBERLING = "/usr/share/ktuberling/sounds"
# ktuberling-data languages held out for evaluation (whole languages)
KTUBERLING_EVAL_LANGS = ["el", "ru", "sl"]
KLETTRES = "/usr/share/klettres"
# klettres-data languages (one speaker each) held out of training
KLETTRES_EVAL_LANGS = ["it", "nb", "ru"]
# hedgewars sound effects that are (or may be) voices: never used as noise
HEDGEWARS_VOCAL_SFX = ("hell_", "hog", "Yoohoo", "Kiss", "countdown",
                       "custom", "suddendeath", "extratime", "homerun",
                       "denied")

# full-band test: native rate >= 32 kHz and at least this share of the
# energy above 8 kHz (an upsampled narrow-band file has ~0)
FULLBAND_MIN_RATE = 32000
FULLBAND_MIN_HF_SHARE = 1e-4

SYNTH_RATE = 48000
SYNTH_SECONDS = 30
SYNTH_KINDS = ["white", "pink", "brown", "hum50", "hum60", "fan", "clicks",
               "keyboard"]
SYNTH_TRAIN_VARIANTS = 4
SYNTH_EVAL_VARIANTS = 2
JOIN_SECONDS = 20
BABBLE_TALKERS = 6
BABBLE_SECONDS = 30
BABBLE_TRAIN_CLIPS = 8
BABBLE_EVAL_CLIPS = 4
# 1 in 4 noise recordings (by hash of the name) are held out
EVAL_SHARE_256 = 64

AUDIO_EXT = (".ogg", ".wav", ".flac", ".opus")


def log(*args):
    print("prepare-data:", *args, file=sys.stderr, flush=True)


def held_out(name):
    """Deterministic hash split: True for about 1 in 4 names."""
    digest = hashlib.sha1(("dae-split:" + name).encode()).digest()
    return digest[0] < EVAL_SHARE_256


def audio_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for f in sorted(filenames):
            if f.lower().endswith(AUDIO_EXT):
                out.append(os.path.join(dirpath, f))
    return sorted(out)


def decode(path, rate):
    """Mono float32 at rate, through ffmpeg (16-bit mono WAV files already
    at rate are read directly: the same samples, without a process)."""
    if path.endswith(".wav"):
        with wave.open(path) as w:
            if (w.getframerate() == rate and w.getnchannels() == 1
                    and w.getsampwidth() == 2):
                pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
                return pcm.astype(np.float32) / np.float32(32768.0)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path,
                          "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


def probe_rate(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0",
                          "-show_entries", "stream=sample_rate", "-of",
                          "json", path], capture_output=True, text=True)
    try:
        return int(json.loads(out.stdout)["streams"][0]["sample_rate"])
    except (ValueError, KeyError, IndexError):
        return 0


class Decoded:
    """The audio of a list of files at one rate, all decoded (by parallel
    ffmpeg processes) on the first get(): babble and the joined clips both
    read every training utterance, and one ffmpeg at a time left a core
    idle."""

    def __init__(self, paths, rate):
        self.paths = sorted(paths)
        self.rate = rate
        self.audio = None

    def get(self, path):
        if self.audio is None:
            with concurrent.futures.ThreadPoolExecutor(os.cpu_count()
                                                       or 2) as pool:
                self.audio = dict(zip(self.paths, pool.map(
                    lambda p: decode(p, self.rate), self.paths)))
        return self.audio[path]


def write_wav(path, x, rate):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    x = np.clip(x, -1.0, 1.0)
    pcm = (x * 32767.0).astype("<i2")
    tmp = path + ".tmp"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    os.replace(tmp, path)


def duration(path):
    if path.endswith(".wav"):
        with wave.open(path) as w:
            return w.getnframes() / w.getframerate()
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "format=duration", "-of", "csv=p=0", path],
                         capture_output=True, text=True).stdout.strip()
    try:
        return float(out)
    except ValueError:
        return 0.0


def write_list(cache, name, paths):
    """Files in the cache first, then the others (Debian's), each sorted:
    dae-train's random choices depend on the order, and a plain sort of
    the absolute paths put the cache before /usr or after it depending on
    where it is."""
    os.makedirs(os.path.join(cache, "lists"), exist_ok=True)
    path = os.path.join(cache, "lists", name)
    prefix = cache.rstrip("/") + "/"
    with open(path, "w") as f:
        for p in sorted(paths, key=lambda p: (not p.startswith(prefix), p)):
            f.write(p + "\n")
    return path


# ---------------------------------------------------------------- speech 16k

def decode_g722(job):
    src, dst = job
    if os.path.exists(dst):
        return dst
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = dst[:-4] + ".tmp.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "g722",
                    "-i", src, "-ar", "16000", "-ac", "1", tmp], check=True)
    os.replace(tmp, dst)
    return dst


def asterisk_is_speech(rel):
    """Whether the asterisk prompt at rel (relative to its voice's
    directory, with or without extension) is speech."""
    parts = rel.split("/")
    stem = os.path.splitext(parts[-1])[0]
    return stem not in ASTERISK_NOT_SPEECH and \
        not ASTERISK_NOT_SPEECH_DIRS.intersection(parts[:-1])


def asterisk_speech(cache):
    lists = {}
    jobs = []
    for voice in ASTERISK_TRAIN + ASTERISK_EVAL:
        root = os.path.join(ASTERISK, voice)
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for f in sorted(filenames):
                src = os.path.join(dirpath, f)
                if f.endswith(".g722") and asterisk_is_speech(
                        os.path.relpath(src, root)):
                    rel = os.path.relpath(src, root)[:-5] + ".wav"
                    dst = os.path.join(cache, "speech16", voice, rel)
                    jobs.append((src, dst))
                    files.append(dst)
        if not files:
            sys.exit("prepare-data: no .g722 files under %s" % root)
        lists[voice] = files
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(decode_g722, jobs))
    return lists


# ------------------------------------------------------- full-band speech 48k

def hf_share(path):
    x = decode(path, 48000)
    n = 1024
    if len(x) < 2 * n:
        return 0.0
    frames = x[:len(x) // n * n].reshape(-1, n) * np.hanning(n)
    spectrum = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).sum(axis=0)
    freqs = np.fft.rfftfreq(n, 1.0 / 48000)
    total = spectrum.sum()
    return float(spectrum[freqs > 8000].sum() / total) if total > 0 else 0.0


def check_fullband(path):
    rate = probe_rate(path)
    if rate < FULLBAND_MIN_RATE:
        return path, False, "native rate %d Hz" % rate
    share = hf_share(path)
    if share < FULLBAND_MIN_HF_SHARE:
        return path, False, "energy above 8 kHz %.1e" % share
    return path, True, "%d Hz, energy above 8 kHz %.1e" % (rate, share)


def checked_fullband(tsv, paths, what):
    """check_fullband() of each path as {path: (ok, why)}, cached in tsv
    (only new paths are checked)."""
    known = {}
    if os.path.exists(tsv):
        for line in open(tsv):
            p, ok, why = line.rstrip("\n").split("\t")
            known[p] = (ok == "1", why)
    todo = [p for p in paths if p not in known]
    if todo:
        log("checking %d %s files for content above 8 kHz" % (len(todo), what))
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            for p, ok, why in pool.map(check_fullband, todo):
                known[p] = (ok, why)
        with open(tsv + ".tmp", "w") as f:
            for p in sorted(known):
                f.write("%s\t%d\t%s\n" % (p, known[p][0], known[p][1]))
        os.replace(tsv + ".tmp", tsv)
    return known


def fullband_speech(cache):
    """Returns (train, eval, rejected lines), cached in fullband.tsv."""
    candidates = []
    for f in audio_files(os.path.join(HEDGEWARS, "Sounds", "voices")):
        group = "hedgewars/" + f.split("/voices/")[1].split("/")[0]
        candidates.append((f, group))
    for f in audio_files(KTUBERLING):
        rel = os.path.relpath(f, KTUBERLING)
        if "/" not in rel:
            continue
        candidates.append((f, "ktuberling/" + rel.split("/")[0]))

    known = checked_fullband(os.path.join(cache, "fullband.tsv"),
                             [p for p, _ in candidates], "speech")

    train, evaluation, rejected = [], [], []
    for p, group in candidates:
        ok, why = known[p]
        if not ok:
            rejected.append("%s\t%s" % (p, why))
            continue
        name = group.split("/")[1]
        if (group.startswith("hedgewars/") and name in HEDGEWARS_EVAL_VOICES) \
                or (group.startswith("ktuberling/")
                    and name in KTUBERLING_EVAL_LANGS):
            evaluation.append(p)
        else:
            train.append(p)
    return train, evaluation, rejected


# --------------------------------------------------------------------- noise

def recorded_noise():
    files = []
    for f in audio_files(os.path.join(HEDGEWARS, "Sounds")):
        if "/voices/" in f:
            continue
        if os.path.basename(f).startswith(HEDGEWARS_VOCAL_SFX):
            continue
        files.append(f)
    files += audio_files(os.path.join(HEDGEWARS, "Music"))
    train = [f for f in files if not held_out(os.path.relpath(f, HEDGEWARS))]
    evaluation = [f for f in files if held_out(os.path.relpath(f, HEDGEWARS))]
    return train, evaluation


def coloured(rng, n, exponent):
    """Gaussian noise with power spectrum ~ 1/f^exponent."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SYNTH_RATE)
    f[0] = f[1]
    spectrum *= f ** (-exponent / 2.0)
    x = np.fft.irfft(spectrum, n)
    return x / (np.std(x) + 1e-12)


def bandpass(rng, x, lo, hi):
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / SYNTH_RATE)
    spectrum[(f < lo) | (f > hi)] *= 0.05
    return np.fft.irfft(spectrum, len(x))


def synth(kind, seed):
    rng = np.random.default_rng(seed)
    n = SYNTH_RATE * SYNTH_SECONDS
    t = np.arange(n) / SYNTH_RATE
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = coloured(rng, n, 1.0)
    elif kind == "brown":
        x = coloured(rng, n, 2.0)
    elif kind in ("hum50", "hum60"):
        f0 = (50.0 if kind == "hum50" else 60.0) * rng.uniform(0.995, 1.005)
        x = np.zeros(n)
        for h in range(1, 40):
            if f0 * h > SYNTH_RATE / 2 - 1000:
                break
            amp = rng.uniform(0.2, 1.0) / h ** rng.uniform(0.5, 1.5)
            x += amp * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3))
        x += 0.02 * coloured(rng, n, 1.0)
    elif kind == "fan":
        blade = rng.uniform(80, 300)
        x = coloured(rng, n, rng.uniform(0.5, 1.5))
        x *= 1.0 + 0.3 * np.sin(2 * np.pi * blade * t)
        for h in range(1, 6):
            x += rng.uniform(0.1, 0.6) / h * np.sin(2 * np.pi * blade * h * t)
    elif kind == "clicks":
        x = 0.01 * rng.standard_normal(n)
        positions = np.cumsum(rng.exponential(SYNTH_RATE * rng.uniform(0.05,
                                                                       0.5),
                                              size=4000)).astype(int)
        for p in positions[positions < n - 2000]:
            length = int(rng.uniform(0.0005, 0.01) * SYNTH_RATE)
            env = np.exp(-np.arange(length) / (length / 5.0))
            x[p:p + length] += rng.uniform(0.2, 1.0) * env * \
                rng.standard_normal(length)
    elif kind == "keyboard":
        x = 0.005 * rng.standard_normal(n)
        p = 0
        while p < n - 4000:
            p += int(rng.gamma(2.0, 0.08) * SYNTH_RATE)
            if p >= n - 4000:
                break
            length = int(rng.uniform(0.004, 0.012) * SYNTH_RATE)
            burst = bandpass(rng, rng.standard_normal(length + 64),
                             rng.uniform(800, 2500),
                             rng.uniform(4000, 12000))[:length]
            env = np.exp(-np.arange(length) / (length / 4.0))
            x[p:p + length] += rng.uniform(0.3, 1.0) * burst * env
            if rng.uniform() < 0.7:  # key release
                q = p + int(rng.uniform(0.05, 0.12) * SYNTH_RATE)
                if q + length < n:
                    x[q:q + length] += 0.4 * burst * env
    else:
        raise ValueError(kind)
    return 0.5 * x / (np.max(np.abs(x)) + 1e-12)


def synth_noise(cache):
    out = {"train": [], "eval": []}
    for split, variants, base in (("train", SYNTH_TRAIN_VARIANTS, 1),
                                  ("eval", SYNTH_EVAL_VARIANTS, 1001)):
        for k, kind in enumerate(SYNTH_KINDS):
            for v in range(variants):
                path = os.path.join(cache, "noise", "synth-" + split,
                                    "%s-%d.wav" % (kind, v + 1))
                if not os.path.exists(path):
                    write_wav(path, synth(kind, base + 100 * k + v),
                              SYNTH_RATE)
                out[split].append(path)
    return out


def made_from(out_dir, files, seed):
    """Whether out_dir holds what mark_made_from recorded for these input
    files and seed; if not, its WAV files are removed (made from another
    list, by an older script) and False returned."""
    stamp = os.path.join(out_dir, ".done")
    want = inputs_digest(files, seed)
    if os.path.exists(stamp) and open(stamp).read().strip() == want:
        return True
    if os.path.isdir(out_dir):
        for f in os.listdir(out_dir):
            if f.endswith(".wav"):
                os.remove(os.path.join(out_dir, f))
    return False


def mark_made_from(out_dir, files, seed):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, ".done"), "w") as f:
        f.write(inputs_digest(files, seed) + "\n")


def inputs_digest(files, seed):
    text = "%d\n%s" % (seed, "\n".join(sorted(files)))
    return hashlib.sha1(text.encode()).hexdigest()


def babble(cache, name, speech, clips, seed):
    """Sums BABBLE_TALKERS streams of concatenated utterances (speech: a
    Decoded)."""
    rng = np.random.default_rng(seed)
    rate = speech.rate
    files = speech.paths
    out_dir = os.path.join(cache, "noise", name)
    paths = [os.path.join(out_dir, "babble-%d.wav" % (c + 1))
             for c in range(clips)]
    if made_from(out_dir, files, seed):
        return paths
    for path in paths:
        n = rate * BABBLE_SECONDS
        mix = np.zeros(n)
        for _ in range(BABBLE_TALKERS):
            stream = []
            length = 0
            while length < n:
                x = speech.get(files[rng.integers(len(files))])
                x = x / (np.sqrt(np.mean(x ** 2)) + 1e-9)
                stream.append(x)
                length += len(x)
            s = np.concatenate(stream)
            start = rng.integers(0, len(s) - n + 1)
            mix += s[start:start + n] * rng.uniform(0.5, 1.0)
        write_wav(path, 0.5 * mix / (np.max(np.abs(mix)) + 1e-9), rate)
    mark_made_from(out_dir, files, seed)
    return paths


# ------------------------------------------------------ joined utterances

def join_utterances(cache, name, files, speech, seed):
    """Joins the (sorted) utterances of one speaker group into clips of
    about JOIN_SECONDS with short random pauses: the trainer skips speech
    clips shorter than one training sequence (2 s), and most prompts and
    game voice lines are shorter than that.  speech: a Decoded holding
    the files."""
    rate = speech.rate
    out_dir = os.path.join(cache, "joined%d" % (rate // 1000), name)
    if made_from(out_dir, files, seed):
        return sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir)
                      if f.endswith(".wav"))
    rng = np.random.default_rng(seed)
    clips, current, length = [], [], 0
    for f in sorted(files):
        x = speech.get(f)
        if len(x) == 0:
            continue
        current.append(x)
        current.append(np.zeros(int(rng.uniform(0.15, 0.6) * rate),
                                dtype=np.float32))
        length += len(x)
        if length >= JOIN_SECONDS * rate:
            clips.append(np.concatenate(current))
            current, length = [], 0
    if current:
        clips.append(np.concatenate(current))
    paths = []
    for i, x in enumerate(clips):
        path = os.path.join(out_dir, "%s-%03d.wav" % (name, i + 1))
        write_wav(path, x, rate)
        paths.append(path)
    mark_made_from(out_dir, files, seed)
    return paths


def group_of(path):
    if path.startswith(ASTERISK) or "/speech16/" in path:
        return path.split("/speech16/")[1].split("/")[0]
    if "/voices/" in path:
        return "hedgewars-" + path.split("/voices/")[1].split("/")[0]
    if path.startswith(KLETTRES + "/"):
        return "klettres-" + os.path.relpath(path, KLETTRES).split("/")[0]
    return "ktuberling-" + os.path.relpath(path, KTUBERLING).split("/")[0]


def joined(cache, speech, seed, prefix=""):
    groups = {}
    for f in speech.paths:
        groups.setdefault(prefix + group_of(f), []).append(f)
    out = []
    for i, g in enumerate(sorted(groups)):
        out += join_utterances(cache, g, groups[g], speech, seed + i)
    return out


def extra_speech(cache, rejected):
    """More voices for the fine-tuning stage: (16 kHz clips, 48 kHz
    clips).  klettres-data: spoken letters and syllables, one speaker per
    language, KLETTRES_EVAL_LANGS held out; the full-band ones (checked as
    the game voices are, cached in klettres.tsv) at 48 kHz, all at 16 kHz.
    At 16 kHz also the game voice clips that failed the full-band test,
    except those recorded at 8 kHz and the evaluation voices."""
    files = [f for f in audio_files(KLETTRES)
             if os.path.relpath(f, KLETTRES).split("/")[0]
             not in KLETTRES_EVAL_LANGS]
    known = checked_fullband(os.path.join(cache, "klettres.tsv"), files,
                             "klettres")
    full = [p for p in files if known[p][0]]
    narrow = []
    for line in rejected:
        p, why = line.split("\t")[:2]
        g = group_of(p)
        if why == "native rate 8000 Hz" or g in (
                ["hedgewars-" + v for v in HEDGEWARS_EVAL_VOICES]
                + ["ktuberling-" + v for v in KTUBERLING_EVAL_LANGS]):
            continue
        narrow.append(p)
    j16 = joined(cache, Decoded(narrow + files, 16000), 301, "extra-")
    j48 = joined(cache, Decoded(full, 48000), 401, "extra-")
    return j16, j48, len(files), len(full), len(narrow)


# ---------------------------------------------------------------------- main

def minutes(paths):
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return sum(pool.map(duration, paths)) / 60.0


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__[__doc__.index("Everything comes"):],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cache", metavar="CACHE_DIR",
                    help="the data cache to write (created if missing)")
    ap.add_argument("--extra-voices", action="store_true",
                    help="also write the extra voice lists for the "
                    "fine-tuning stage (klettres-data must be installed: "
                    "train-default.sh installs it with DAE_EXTRA_VOICES=1)")
    ap.add_argument("--eval-list", metavar="FILE",
                    help="also write the evaluation sources to FILE "
                    "(bench/eval-sources.txt)")
    opts = ap.parse_args()
    cache = os.path.abspath(opts.cache)
    eval_list = opts.eval_list
    extra = opts.extra_voices
    os.makedirs(cache, exist_ok=True)

    log("decoding asterisk G.722 prompts to 16 kHz WAV")
    voices = asterisk_speech(cache)
    sp16_train = [p for v in ASTERISK_TRAIN for p in voices[v]]
    sp16_eval = [p for v in ASTERISK_EVAL for p in voices[v]]

    log("selecting full-band speech")
    sp48_train, sp48_eval, rejected = fullband_speech(cache)

    log("splitting noise recordings, generating synthetic noise and babble")
    rec_train, rec_eval = recorded_noise()
    synth_lists = synth_noise(cache)
    d16_train = Decoded(sp16_train, 16000)
    d48_train = Decoded(sp48_train, 48000)
    b16_train = babble(cache, "babble16-train", d16_train,
                       BABBLE_TRAIN_CLIPS, 1)
    b16_eval = babble(cache, "babble16-eval", Decoded(sp16_eval, 16000),
                      BABBLE_EVAL_CLIPS, 1001)
    b48_train = babble(cache, "babble48-train", d48_train,
                       BABBLE_TRAIN_CLIPS, 2)
    b48_eval = babble(cache, "babble48-eval", Decoded(sp48_eval, 48000),
                      BABBLE_EVAL_CLIPS, 1002)

    log("joining short utterances into training clips")
    j16_train = joined(cache, d16_train, 1)
    j48_train = joined(cache, d48_train, 101)
    del d16_train, d48_train
    if extra:
        log("joining more voices for the fine-tuning stage")
        x16, x48, n_kl, n_kl_full, n_narrow = extra_speech(cache, rejected)

    lists = {
        # the 16 kHz model also learns from the full-band training voices
        # (dae-train resamples them): the asterisk training prompts are
        # only two female speakers
        "speech-16k-train.txt": j16_train + j48_train,
        "speech-16k-train-utterances.txt": sp16_train,
        "speech-16k-eval.txt": sp16_eval,
        "speech-48k-train.txt": j48_train,
        "speech-48k-train-utterances.txt": sp48_train,
        "speech-48k-eval.txt": sp48_eval,
        "noise-recorded-train.txt": rec_train,
        "noise-recorded-eval.txt": rec_eval,
        "noise-synth-train.txt": synth_lists["train"],
        "noise-synth-eval.txt": synth_lists["eval"],
        "noise-16k-train.txt": rec_train + synth_lists["train"] + b16_train,
        "noise-16k-eval.txt": rec_eval + synth_lists["eval"] + b16_eval,
        "noise-48k-train.txt": rec_train + synth_lists["train"] + b48_train,
        "noise-48k-eval.txt": rec_eval + synth_lists["eval"] + b48_eval,
    }
    if extra:
        lists["speech-16k-extra.txt"] = x16
        lists["speech-48k-extra.txt"] = x48
    for name, paths in lists.items():
        write_list(cache, name, paths)
    with open(os.path.join(cache, "lists", "speech-48k-rejected.tsv"),
              "w") as f:
        f.write("\n".join(sorted(rejected)) + "\n")

    summary = []
    for name, paths in (("speech 16k train (asterisk %s)" %
                         ", ".join(ASTERISK_TRAIN), sp16_train),
                        ("speech 16k eval (asterisk %s)" %
                         ", ".join(ASTERISK_EVAL), sp16_eval)):
        summary.append("%-60s %5d files %7.1f min" %
                       (name, len(paths), minutes(paths)))
    for v in ASTERISK_TRAIN + ASTERISK_EVAL:
        summary.append("  %-58s %5d files %7.1f min" %
                       (v, len(voices[v]), minutes(voices[v])))
    for name, paths in (("speech 48k train (full-band)", sp48_train),
                        ("speech 48k eval (full-band)", sp48_eval),
                        ("speech 16k train, joined clips", j16_train),
                        ("speech 48k train, joined clips", j48_train),
                        ("noise recorded train (hedgewars)", rec_train),
                        ("noise recorded eval (hedgewars)", rec_eval),
                        ("noise synthetic train", synth_lists["train"]),
                        ("noise synthetic eval", synth_lists["eval"]),
                        ("babble 16k train", b16_train),
                        ("babble 16k eval", b16_eval),
                        ("babble 48k train", b48_train),
                        ("babble 48k eval", b48_eval)) + ((
                        ("speech 16k extra (klettres %d files, other game "
                         "voices %d files), joined" % (n_kl, n_narrow), x16),
                        ("speech 48k extra (klettres full-band, %d files), "
                         "joined" % n_kl_full, x48)) if extra else ()):
        summary.append("%-60s %5d files %7.1f min" %
                       (name, len(paths), minutes(paths)))
    summary.append("%-60s %5d files" % ("speech rejected (not full-band)",
                                         len(rejected)))
    text = "\n".join(summary) + "\n"
    with open(os.path.join(cache, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)

    if eval_list:
        # the evaluation sources as Debian paths (stable across machines)
        with open(eval_list + ".tmp", "w") as f:
            f.write("# dae evaluation sources: never used for training.\n"
                    "# Written by models/prepare-data.py; see "
                    "models/README.md.\n")
            f.write("# speech 16k (asterisk G.722, decode with ffmpeg -f "
                    "g722)\n")
            for v in ASTERISK_EVAL:
                f.write("speech16\t%s/%s\n" % (ASTERISK, v))
            for p in sorted(sp48_eval):
                f.write("speech48\t%s\n" % p)
            for p in sorted(rec_eval):
                f.write("noise\t%s\n" % p)
            f.write("# synthetic noise: prepare-data.py synth(kind, seed), "
                    "seeds 1001+100*k+v; babble from the eval speakers\n")
        os.replace(eval_list + ".tmp", eval_list)


if __name__ == "__main__":
    main()
