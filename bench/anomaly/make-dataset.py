#!/usr/bin/python3
"""Builds the machine-sound anomaly data set, deterministically from a seed.

Usage: bench/anomaly/make-dataset.py [--out DIR] [--seed N] [--units N]
                                     [--train N] [--test N] [--jobs N]

Five machine kinds, synthesised from simple physical models (rotating
parts give tones at shaft-rate multiples, impacts excite damped modes,
flow gives shaped noise), each with --units units ("machine IDs") whose
parameters differ (blade/vane/tooth counts, speeds, resonances, cycle
patterns, microphone colouring, mains frequency):

  fan      blade-pass tone series with shaft-rate modulation, turbulence
  pump     vane-pass tones, motor slot whine, flow noise with pipe modes
  valve    solenoid valve cycling: open/close clicks (damped modes), hiss
           while open, a pump nearby
  slider   linear axis moving back and forth: motor tone following the
           velocity profile, rolling noise, end clunks, PWM whine
  gearbox  gear-mesh harmonics with shaft-rate sidebands, rolling noise

Normal variation, per clip: speed (+-3 %, and a slow drift within the
clip), load (levels of the components, +-2 dB), cycle timing jitter, the
recording gain (+-5 dB, so the level says nothing), and a factory
background: shaped ambient noise at 12-30 dB below the machine plus 0-2
distant events per clip cut from real recordings (the held-out hedgewars
machine/impact sounds of bench/eval-sources.txt; synthetic impacts when a
file cannot be decoded).

Anomalies (test only; one kind per clip, severity drawn uniformly in
[0, 1] and mapped to a level range from barely audible to clearly
audible), per machine kind:

  fan      imbalance (stronger shaft-rate modulation, shaft tone),
           blade damage (once-per-revolution pulse: sidebands),
           bearing (outer-race impacts exciting a 2.5-5 kHz resonance),
           clogging (airflow whistle, turbulence shifted up)
  pump     cavitation (sparse broadband crackle), leak (2-6 kHz hiss),
           bearing, blockage (vane-pass pulsation, flow noise shifted)
  valve    missing actuations, chatter (bounce clicks), leak (hiss while
           closed), contamination (click modes detuned, damped),
           sticking (late closing)
  slider   rail damage (rattle at one position every pass), no
           lubrication (squeal during motion, rougher rolling),
           loose belt (clunk at reversal, rattle while accelerating),
           obstruction (velocity dip at one position)
  gearbox  tooth crack (once-per-revolution impact and sidebands), wear
           (mesh harmonics up, mesh noise), misalignment (2x shaft
           modulation), bearing

Split as DCASE 2020 Task 2: per unit, train = --train normal clips, test =
--test normal + --test anomalous clips; 10 s, 16 kHz, 16-bit mono WAV.

Writes DIR/<kind>/<unit>/{train,test}/{normal,anomaly}_NNNN.wav and
DIR/manifest.json (every clip with its kind, unit, split, label, anomaly
type, severity, gain and background).  Needs python3-numpy; ffmpeg for the
real background recordings.
"""

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import wave
from concurrent.futures import ProcessPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SR = 16000
CLIP_S = 10.0
N = int(SR * CLIP_S)
LEVEL_DBFS = -26.0          # machine RMS before the recording gain
GAIN_DB = 5.0               # recording gain: uniform in +-GAIN_DB
PEAK = 0.95
KINDS = ["fan", "pump", "valve", "slider", "gearbox"]
ANOMALIES = {
    "fan": ["imbalance", "blade_damage", "bearing", "clogging"],
    "pump": ["cavitation", "leak", "bearing", "blockage"],
    "valve": ["missing", "chatter", "leak", "contamination", "sticking"],
    "slider": ["rail_damage", "no_lubrication", "loose_belt", "obstruction"],
    "gearbox": ["tooth_crack", "wear", "misalignment", "bearing"],
}
# background recordings: names in bench/eval-sources.txt that sound like a
# factory hall (tools, motors, steam, impacts)
BACKGROUND_NAMES = ["steam", "drillgun", "pickhammer", "hammer", "bump",
                    "rcplane"]

t = np.arange(N) / SR


# --------------------------------------------------------------------------
# helpers

def item_rng(seed, *names):
    key = ":".join(str(x) for x in (seed,) + names)
    h = hashlib.sha256(key.encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def db(x):
    return 10.0 ** (x / 20.0)


def rms(x):
    return float(np.sqrt(np.mean(x * x) + 1e-20))


def unit_rms(x):
    return x / rms(x)


def lerp(lo, hi, s):
    return lo + (hi - lo) * s


def slow_walk(rng, sigma, corr_s, n=N):
    """A smooth random function of time, std about sigma, correlation
    length corr_s seconds (cosine-interpolated Gaussian points)."""
    k = int(n / SR / corr_s) + 3
    pts = rng.normal(0.0, sigma, k)
    x = np.arange(n) / SR / corr_s
    i = np.floor(x).astype(int)
    f = x - i
    w = 0.5 - 0.5 * np.cos(np.pi * f)
    return pts[i] * (1 - w) + pts[i + 1] * w


def phase(freq):
    """Phase (radians) of an oscillator whose frequency follows freq (Hz,
    scalar or per sample)."""
    f = np.broadcast_to(np.asarray(freq, dtype=float), (N,))
    return 2 * np.pi * np.cumsum(f) / SR


def shaped_noise(rng, shape, n=N):
    """Gaussian noise with amplitude spectrum shape(f) (f in Hz), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    spec *= shape(f)
    return unit_rms(np.fft.irfft(spec, n))


def hump(f, fc, octaves):
    """Log-Gaussian bump centred at fc, width in octaves."""
    return np.exp(-0.5 * (np.log2(np.maximum(f, 1.0) / fc) / octaves) ** 2)


def pink(f):
    return 1.0 / np.sqrt(np.maximum(f, 20.0))


def highpass(f, fc, order=2):
    r = (np.maximum(f, 1e-3) / fc) ** (2 * order)
    return np.sqrt(r / (1 + r))


def lowpass(f, fc, order=2):
    return 1.0 / np.sqrt(1 + (f / fc) ** (2 * order))


def modes_ir(freqs, taus, amps, length_s=0.08, rng=None):
    """Impulse response: a sum of damped sinusoids (modes)."""
    n = int(length_s * SR)
    tt = np.arange(n) / SR
    h = np.zeros(n)
    for f, tau, a in zip(freqs, taus, amps):
        ph = rng.uniform(0, 2 * np.pi) if rng is not None else 0.0
        h += a * np.exp(-tt / tau) * np.sin(2 * np.pi * f * tt + ph)
    # a short onset ramp so the click does not start with a step
    ramp = min(n, int(0.0004 * SR))
    h[:ramp] *= np.linspace(0, 1, ramp)
    return h


def convolve(x, h):
    n = len(x) + len(h) - 1
    nfft = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(h, nfft), nfft)
    return y[:len(x)]


def events(times, amps, n=N):
    """An impulse train: amplitude amps[i] at time times[i] (s), linear
    interpolation between samples."""
    x = np.zeros(n + 2)
    pos = np.asarray(times) * SR
    keep = (pos >= 0) & (pos < n - 1)
    pos = pos[keep]
    a = np.broadcast_to(np.asarray(amps, dtype=float),
                        (len(keep),))[keep]
    i = np.floor(pos).astype(int)
    f = pos - i
    np.add.at(x, i, a * (1 - f))
    np.add.at(x, i + 1, a * f)
    return x[:n]


def times_from_phase(ph, period_rad, offset_rad=0.0):
    """Times (s) at which the phase ph (array) crosses offset + k period."""
    k = np.floor((ph - offset_rad) / period_rad)
    idx = np.nonzero(np.diff(k) > 0)[0] + 1
    return idx / SR


def mic_eq(rng):
    """A unit's microphone/mounting colouring: smooth +-4 dB over log
    frequency (knots per octave from 31 Hz to 8 kHz)."""
    knots = np.log2(31.25) + np.arange(10)
    gains = rng.uniform(-4.0, 4.0, len(knots))
    return knots.tolist(), gains.tolist()


def apply_eq(x, eq, extra_db=None):
    knots, gains = eq
    gains = np.asarray(gains)
    if extra_db is not None:
        gains = gains + extra_db
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / SR)
    g = np.interp(np.log2(np.maximum(f, 1.0)), knots, gains)
    return np.fft.irfft(spec * db(g), len(x))


def bearing_signal(rng, shaft_hz, ratio, res_hz, n=N):
    """Outer-race defect: impacts at ratio x shaft rate (1 % jitter),
    amplitude varying, each ringing a structural resonance."""
    period = 1.0 / (shaft_hz * ratio)
    times = np.cumsum(period * (1 + 0.01 * rng.standard_normal(
        int(CLIP_S / period) + 2))) - rng.uniform(0, period)
    amps = 1 + 0.3 * rng.standard_normal(len(times))
    h = modes_ir([res_hz, res_hz * 1.37], [0.0012, 0.0008], [1.0, 0.5],
                 0.02, rng)
    return unit_rms(convolve(events(times, amps, n), h))


# --------------------------------------------------------------------------
# background: ambient noise + distant events from real recordings

_decoded = {}


def background_sources():
    path = os.path.join(ROOT, "bench", "eval-sources.txt")
    found = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 2 and parts[0] == "noise":
                    name = os.path.splitext(os.path.basename(parts[1]))[0]
                    if name in BACKGROUND_NAMES:
                        found.append(parts[1])
    except OSError:
        pass
    return sorted(found)


def decode(path):
    if path not in _decoded:
        try:
            raw = subprocess.run(
                ["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-ac", "1",
                 "-ar", str(SR), "-f", "f32le", "-"],
                capture_output=True, check=True).stdout
            x = np.frombuffer(raw, dtype=np.float32).astype(np.float64)
            _decoded[path] = x if len(x) > SR // 20 and rms(x) > 1e-5 else None
        except (OSError, subprocess.CalledProcessError):
            _decoded[path] = None
    return _decoded[path]


def background(rng, sources):
    """Ambient hall noise (unit RMS) and a list of what was added."""
    tilt = rng.uniform(0.5, 1.5)
    rumble_hz = rng.uniform(40, 120)
    amb = shaped_noise(rng, lambda f: pink(f) ** tilt * highpass(f, 25)
                       + 3 * hump(f, rumble_hz, 0.6) * pink(f))
    amb *= 1 + slow_walk(rng, 0.1, 1.5)
    desc = []
    n_events = rng.integers(0, 3)
    for _ in range(n_events):
        level = db(rng.uniform(-14, 0))
        start = rng.uniform(-0.5, CLIP_S - 0.2)
        src = sources[rng.integers(len(sources))] if sources else None
        x = decode(src) if src else None
        if x is None:
            # synthetic distant impact
            h = modes_ir(rng.uniform(150, 2500, 3), rng.uniform(0.01, 0.08, 3),
                         [1, 0.6, 0.4], 0.4, rng)
            x = unit_rms(h) * 0.3
            name = "synthetic-impact"
        else:
            # distant: low-passed, a random excerpt of at most 2 s
            lp = rng.uniform(2000, 6000)
            seg = x[rng.integers(0, max(1, len(x) - 2 * SR)):][:2 * SR]
            spec = np.fft.rfft(seg)
            f = np.fft.rfftfreq(len(seg), 1.0 / SR)
            x = np.fft.irfft(spec * lowpass(f, lp), len(seg))
            x = x / (np.max(np.abs(x)) + 1e-9) * 0.5
            name = os.path.basename(src)
        i0 = int(start * SR)
        a, b = max(0, i0), min(N, i0 + len(x))
        if b > a:
            amb[a:b] += level * 3 * x[a - i0:b - i0]
        desc.append(name)
    return amb, desc


# --------------------------------------------------------------------------
# machine kinds: unit(rng) -> params, clip(rng, unit, anomaly, severity)

def unit_fan(rng):
    return {
        "blades": int(rng.choice([5, 6, 7, 9, 11])),
        "shaft_hz": float(rng.uniform(14, 28)),
        "mains": int(rng.choice([50, 60])),
        "harm": (rng.uniform(0.3, 1.0, 6) / np.arange(1, 7) ** 1.2).tolist(),
        "am_depth": float(rng.uniform(0.02, 0.05)),
        "turb_hz": float(rng.uniform(300, 1500)),
        "turb_db": float(rng.uniform(-4, 2)),
        "duct_hz": rng.uniform(200, 3000, 2).tolist(),
        "bearing_ratio": float(rng.uniform(3.05, 4.6)),
        "bearing_res": float(rng.uniform(2500, 5000)),
        "eq": mic_eq(rng),
    }


def clip_fan(rng, u, anomaly, s):
    speed = u["shaft_hz"] * (1 + rng.uniform(-0.03, 0.03)) \
        * (1 + slow_walk(rng, 0.003, 2.0))
    ph = phase(speed)
    bpf_ph = u["blades"] * ph
    load = rng.uniform(-2, 2)
    am = u["am_depth"]
    harm = np.array(u["harm"]) * db(rng.normal(0, 0.7, 6))
    turb_hz = u["turb_hz"]
    if anomaly == "imbalance":
        am += lerp(0.04, 0.25, s)
    if anomaly == "clogging":
        turb_hz *= lerp(1.15, 1.5, s)
        harm[1] *= db(lerp(1.5, 5, s))
    tonal = sum(a * np.sin(h * bpf_ph + rng.uniform(0, 2 * np.pi))
                for h, a in zip(range(1, 7), harm))
    tonal = unit_rms(tonal) * (1 + am * np.cos(ph + rng.uniform(0, 6.3)))
    turb = shaped_noise(rng, lambda f: hump(f, turb_hz, 1.3) * pink(f)
                        * (1 + 2 * sum(hump(f, d, 0.15)
                                       for d in u["duct_hz"])))
    turb *= 1 + 0.15 * np.cos(bpf_ph)
    hum = unit_rms(np.sin(phase(2 * u["mains"])) + 0.3 * np.sin(
        phase(4 * u["mains"])))
    x = tonal + db(u["turb_db"] + load) * turb + db(-16) * hum
    x = unit_rms(x)
    if anomaly == "imbalance":
        shaft = np.sin(ph) + 0.5 * np.sin(2 * ph + 1.0)
        x += db(lerp(-30, -16, s)) * unit_rms(shaft)
    elif anomaly == "blade_damage":
        # one blade differs: a pulse once per revolution, shaped like a
        # blade passage (a short burst of the blade-pass harmonics)
        times = times_from_phase(ph, 2 * np.pi, rng.uniform(0, 6.3))
        width = 1.0 / (u["blades"] * u["shaft_hz"])
        tt = np.arange(int(width * SR)) / SR
        h = np.hanning(len(tt)) * np.sin(2 * np.pi * tt / width * 2)
        x += db(lerp(-30, -14, s)) * unit_rms(convolve(events(times, 1), h))
    elif anomaly == "bearing":
        x += db(lerp(-34, -18, s)) * bearing_signal(
            rng, u["shaft_hz"], u["bearing_ratio"], u["bearing_res"])
    elif anomaly == "clogging":
        f0 = rng.uniform(1000, 3000)
        wob = 1 + slow_walk(rng, 0.01, 0.3)
        x += db(lerp(-36, -20, s)) * np.sin(phase(f0 * wob))
    return x


def unit_pump(rng):
    return {
        "vanes": int(rng.integers(5, 8)),
        "shaft_hz": float(rng.choice([24.3, 24.6, 48.5, 49.0]) * rng.uniform(0.97, 1.0)),
        "mains": int(rng.choice([50, 60])),
        "slots": int(rng.integers(24, 40)),
        "harm": (rng.uniform(0.4, 1.0, 4) / np.arange(1, 5)).tolist(),
        "flow_hz": rng.uniform(300, 2500, 2).tolist(),
        "flow_db": float(rng.uniform(-3, 3)),
        "whine_db": float(rng.uniform(-22, -12)),
        "bearing_ratio": float(rng.uniform(3.05, 4.6)),
        "bearing_res": float(rng.uniform(2500, 5000)),
        "eq": mic_eq(rng),
    }


def clip_pump(rng, u, anomaly, s):
    speed = u["shaft_hz"] * (1 + rng.uniform(-0.02, 0.02)) \
        * (1 + slow_walk(rng, 0.002, 2.0))
    ph = phase(speed)
    flow = rng.uniform(-2, 2)            # flow rate / load
    harm = np.array(u["harm"]) * db(rng.normal(0, 0.7, 4))
    puls = 0.0
    flow_shift = 1.0
    flow_db = u["flow_db"] + flow
    if anomaly == "blockage":
        harm *= db(lerp(2, 6, s))
        puls = lerp(0.1, 0.4, s)
        flow_shift = lerp(1.1, 1.35, s)
        flow_db -= lerp(0.5, 2, s)
    vpf = sum(a * np.sin(h * u["vanes"] * ph + rng.uniform(0, 6.3))
              for h, a in zip(range(1, 5), harm))
    vpf = unit_rms(vpf)
    if puls > 0:
        vpf *= 1 + puls * np.sin(2 * np.pi * rng.uniform(1, 4) * t
                                 + slow_walk(rng, 1.0, 0.5))
    whine = np.sin(u["slots"] * ph) + 0.4 * np.sin(2 * u["slots"] * ph + 1)
    hum = np.sin(phase(2 * u["mains"]))
    fl = shaped_noise(rng, lambda f: pink(f) * highpass(f, 60) * (
        0.3 + sum(hump(f, fc * flow_shift, 0.8) for fc in u["flow_hz"])))
    fl *= 1 + slow_walk(rng, 0.12, 0.4)
    x = vpf + db(flow_db) * fl + db(u["whine_db"]) * unit_rms(whine) \
        + db(-14) * unit_rms(hum)
    x = unit_rms(x)
    if anomaly == "cavitation":
        rate = lerp(80, 600, s)
        n_ev = rng.poisson(rate * CLIP_S)
        times = rng.uniform(0, CLIP_S, n_ev)
        amps = rng.exponential(1.0, n_ev) * rng.choice([-1, 1], n_ev)
        h = rng.standard_normal(int(0.002 * SR)) * np.exp(
            -np.arange(int(0.002 * SR)) / (0.0004 * SR))
        crackle = convolve(events(times, amps), h)
        spec = np.fft.rfft(crackle)
        f = np.fft.rfftfreq(N, 1.0 / SR)
        crackle = np.fft.irfft(spec * highpass(f, 1500, 2), N)
        x += db(lerp(-32, -16, s)) * unit_rms(crackle)
    elif anomaly == "leak":
        fc = rng.uniform(2500, 5500)
        hiss = shaped_noise(rng, lambda f: hump(f, fc, 0.5))
        hiss *= 1 + slow_walk(rng, 0.1, 0.3)
        x += db(lerp(-34, -18, s)) * hiss
    elif anomaly == "bearing":
        x += db(lerp(-34, -18, s)) * bearing_signal(
            rng, speed.mean(), u["bearing_ratio"], u["bearing_res"])
    return x


def unit_valve(rng):
    period = float(rng.uniform(0.8, 2.5))
    return {
        "period": period,
        "open_frac": float(rng.uniform(0.2, 0.6)),
        "modes_open": rng.uniform(1000, 6000, 3).tolist(),
        "modes_close": rng.uniform(1000, 6000, 3).tolist(),
        "taus": rng.uniform(0.003, 0.015, 3).tolist(),
        "thump_hz": float(rng.uniform(150, 400)),
        "close_db": float(rng.uniform(-4, 2)),
        "hiss_hz": float(rng.uniform(1000, 4000)),
        "hiss_db": float(rng.uniform(-22, -12)),
        "pump_hz": float(rng.uniform(24, 49)),
        "pump_db": float(rng.uniform(-24, -16)),
        "eq": mic_eq(rng),
    }


def valve_click(rng, modes, taus, thump_hz, detune=1.0, damp=1.0):
    return modes_ir([m * detune for m in modes] + [thump_hz],
                    [tau * damp for tau in taus] + [0.012],
                    [1.0, 0.7, 0.5, 0.8], 0.1, rng)


def clip_valve(rng, u, anomaly, s):
    period = u["period"] * (1 + rng.uniform(-0.015, 0.015))
    t0 = -rng.uniform(0, period)
    n_cycles = int((CLIP_S - t0) / period) + 1
    opens = t0 + period * np.arange(n_cycles) + rng.normal(0, 0.004, n_cycles)
    dur = u["open_frac"] * period * (1 + rng.normal(0, 0.01, n_cycles))
    closes = opens + dur
    act = np.ones(n_cycles, bool)
    detune, damp = 1.0, 1.0
    inside = np.nonzero((opens > 0.3) & (closes < CLIP_S - 0.3))[0]
    if anomaly == "missing" and len(inside):
        k = max(1, int(round(lerp(1, 3, s))))
        act[rng.choice(inside, min(k, len(inside)), replace=False)] = False
    if anomaly == "sticking" and len(inside):
        k = max(1, int(round(lerp(1, len(inside), s * s))))
        idx = rng.choice(inside, min(k, len(inside)), replace=False)
        closes[idx] += lerp(0.05, 0.25, s) * rng.uniform(0.7, 1.0, len(idx))
    if anomaly == "contamination":
        detune = 1 + rng.choice([-1, 1]) * lerp(0.04, 0.15, s)
        damp = lerp(0.8, 0.45, s)
    amp_o = db(rng.normal(0, 1.5, n_cycles)) * act
    amp_c = db(u["close_db"] + rng.normal(0, 1.5, n_cycles)) * act
    h_o = valve_click(rng, u["modes_open"], u["taus"], u["thump_hz"],
                      detune, damp)
    h_c = valve_click(rng, u["modes_close"], u["taus"], u["thump_hz"] * 0.8,
                      detune, damp)
    x = convolve(events(opens, amp_o), h_o) + convolve(events(closes, amp_c),
                                                      h_c)
    # hiss while open (smoothed gate)
    gate = np.zeros(N)
    for o, c, a in zip(opens, closes, act):
        if a:
            gate[max(0, int(o * SR)):max(0, min(N, int(c * SR)))] = 1.0
    if anomaly == "leak":
        gate = np.maximum(gate, db(lerp(-26, -12, s)))
    gate = convolve(gate, np.hanning(int(0.01 * SR)) / (0.005 * SR))
    hiss = shaped_noise(rng, lambda f: hump(f, u["hiss_hz"], 0.7))
    hiss *= 1 + slow_walk(rng, 0.1, 0.2)
    click_level = rms(x) if rms(x) > 1e-9 else 1.0
    x = x / click_level
    x += db(u["hiss_db"] + 10 + rng.normal(0, 1)) * hiss * gate
    if anomaly == "chatter" and len(inside):
        k = max(1, int(round(lerp(1, 5, s))))
        idx = rng.choice(inside, min(k, len(inside)), replace=False)
        bt = opens[idx] + rng.uniform(0.015, 0.06, len(idx))
        x += convolve(events(bt, db(lerp(-10, -2, s))
                             * np.ones(len(idx))), h_o)
    pump = shaped_noise(rng, lambda f: hump(f, 200, 1.5) * pink(f)) \
        + 2 * unit_rms(np.sin(phase(u["pump_hz"] * 6)))
    x += db(u["pump_db"] + 10) * unit_rms(pump)
    return x


def unit_slider(rng):
    return {
        "move_s": float(rng.uniform(0.5, 1.0)),
        "dwell_s": float(rng.uniform(0.2, 0.5)),
        "motor_hz": float(rng.uniform(400, 1200)),
        "pwm_hz": float(rng.uniform(4000, 7500)),
        "pwm_db": float(rng.uniform(-30, -20)),
        "roll_hz": float(rng.uniform(1500, 4000)),
        "roll_db": float(rng.uniform(-6, 0)),
        "clunk_modes": rng.uniform(100, 1500, 3).tolist(),
        "clunk_db": float(rng.uniform(-6, 0)),
        "defect_pos": float(rng.uniform(0.2, 0.8)),
        "eq": mic_eq(rng),
    }


def clip_slider(rng, u, anomaly, s):
    move = u["move_s"] * (1 + rng.uniform(-0.03, 0.03))
    acc = 0.2 * move
    v = np.zeros(N)
    clunk_times, reversals, hits = [], [], []
    tt = -rng.uniform(0, 2 * (move + u["dwell_s"]))
    forward = True
    while tt < CLIP_S:
        a = int(round(tt * SR))
        tl = np.arange(int(move * SR)) / SR
        prof = np.clip(np.minimum(tl / acc, (move - tl) / acc), 0, 1)
        # position along the travel (0..1) in the direction of motion
        p = np.cumsum(prof) / np.sum(prof)
        target = u["defect_pos"] if forward else 1 - u["defect_pos"]
        if anomaly == "obstruction":
            dip = lerp(0.1, 0.35, s)
            width = lerp(0.03, 0.08, s)
            prof = prof * (1 - dip * np.exp(-0.5 * ((p - target) / width)
                                            ** 2))
        lo, hi = max(a, 0), min(a + len(prof), N)
        if hi > lo:
            v[lo:hi] = prof[lo - a:hi - a]
        clunk_times += [tt, tt + move]
        if forward:
            reversals.append(tt + move)
        hits.append(tt + np.searchsorted(p, target) / SR)
        tt += move + u["dwell_s"] * (1 + rng.uniform(-0.1, 0.1))
        forward = not forward
    moving = (v > 0.01).astype(float)
    motor_f = u["motor_hz"] * v * (1 + slow_walk(rng, 0.003, 1.0))
    mph = phase(motor_f)
    motor = unit_rms(np.sin(mph) + 0.5 * np.sin(2 * mph + 1)
                     + 0.2 * np.sin(3 * mph)) * np.sqrt(v)
    roll_db = u["roll_db"] + rng.uniform(-1.5, 1.5)
    if anomaly == "no_lubrication":
        roll_db += lerp(1.5, 4, s)
    roll = shaped_noise(rng, lambda f: hump(f, u["roll_hz"], 0.8)) * v
    env = convolve(moving, np.hanning(int(0.005 * SR)) / (0.0025 * SR))
    pwm = np.sin(phase(u["pwm_hz"])) * env
    h_clunk = modes_ir(u["clunk_modes"], [0.02, 0.015, 0.01], [1, 0.6, 0.4],
                       0.15, rng)
    h_clunk /= np.max(np.abs(h_clunk))
    clunks = convolve(events(clunk_times, db(
        u["clunk_db"] + rng.normal(0, 1.5, len(clunk_times)))), h_clunk)
    x = motor + db(roll_db) * roll + db(u["pwm_db"] + 6) * pwm         + 0.5 * clunks
    if anomaly == "rail_damage":
        bt = np.concatenate([np.asarray(hits) + rng.uniform(0, 0.02,
                                                           len(hits))
                             for _ in range(4)])
        h = modes_ir(rng.uniform(1500, 5000, 2), [0.002, 0.003], [1, 0.7],
                     0.02, rng)
        x += db(lerp(-22, -6, s)) * 0.5 * convolve(
            events(bt, rng.uniform(0.5, 1, len(bt))), h / np.max(np.abs(h)))
    elif anomaly == "no_lubrication":
        f0 = rng.uniform(2000, 5000)
        sq = np.sin(phase(f0 * (1 + 0.01 * np.sin(2 * np.pi * 6 * t))))
        x += db(lerp(-34, -18, s)) * sq * v
    elif anomaly == "loose_belt":
        h = modes_ir(rng.uniform(200, 900, 2), [0.01, 0.006], [1, 0.6], 0.08,
                     rng)
        h /= np.max(np.abs(h))
        bt = np.asarray(reversals) + rng.uniform(0.005, 0.02, len(reversals))
        n_r = rng.poisson(lerp(2, 15, s) * CLIP_S)
        rt = rng.uniform(0, CLIP_S, n_r)
        accel = np.abs(np.gradient(v)) * SR > 1.0
        rt = rt[accel[np.minimum((rt * SR).astype(int), N - 1)]]
        x += db(lerp(-22, -8, s)) * 0.5 * convolve(
            events(np.concatenate([bt, rt]), 1.0), h)
    return x


def unit_gearbox(rng):
    return {
        "shaft_hz": float(rng.uniform(15, 35)),
        "teeth": int(rng.integers(17, 32)),
        "ratio": float(rng.uniform(1.5, 4.0)),
        "harm": (rng.uniform(0.3, 1.0, 4) / np.arange(1, 5)).tolist(),
        "side_db": float(rng.uniform(-34, -26)),
        "noise_hz": float(rng.uniform(800, 3000)),
        "noise_db": float(rng.uniform(-10, -4)),
        "mains": int(rng.choice([50, 60])),
        "res_hz": float(rng.uniform(1000, 3000)),
        "bearing_ratio": float(rng.uniform(3.05, 4.6)),
        "bearing_res": float(rng.uniform(2500, 5000)),
        "eq": mic_eq(rng),
    }


def clip_gearbox(rng, u, anomaly, s):
    speed = u["shaft_hz"] * (1 + rng.uniform(-0.03, 0.03)) \
        * (1 + slow_walk(rng, 0.003, 2.0))
    ph = phase(speed)
    ph_out = ph / u["ratio"]
    mesh_ph = u["teeth"] * ph
    load = rng.uniform(-2, 2)
    harm = np.array(u["harm"]) * db(rng.normal(0, 0.7, 4))
    side = db(u["side_db"])
    side2 = 0.0
    jitter = 0.0
    if anomaly == "wear":
        harm[1:] *= db(lerp(3, 9, s))
        jitter = lerp(0.05, 0.25, s)
    if anomaly == "misalignment":
        side2 = lerp(0.04, 0.2, s)
    if anomaly == "tooth_crack":
        side *= db(lerp(2, 8, s))
    mod = 1 + side * np.cos(ph + 0.3) + side * np.cos(ph_out + 1.1) \
        + side2 * np.cos(2 * ph + 0.5)
    pj = jitter * slow_walk(rng, 1.0, 0.01) if jitter > 0 else 0.0
    mesh = sum(a * np.sin(h * (mesh_ph + pj) + rng.uniform(0, 6.3))
               for h, a in zip(range(1, 5), harm))
    mesh = unit_rms(mesh) * mod * db(load)
    noise = shaped_noise(rng, lambda f: hump(f, u["noise_hz"], 1.2)
                         + 0.3 * pink(f) * 30)
    hum = np.sin(phase(2 * u["mains"]))
    x = mesh + db(u["noise_db"]) * noise + db(-18) * unit_rms(hum)
    x = unit_rms(x)
    if anomaly == "tooth_crack":
        times = times_from_phase(ph, 2 * np.pi, rng.uniform(0, 6.3))
        h = modes_ir([u["res_hz"], u["res_hz"] * 1.6], [0.003, 0.002],
                     [1, 0.5], 0.03, rng)
        x += db(lerp(-30, -14, s)) * unit_rms(
            convolve(events(times, 1 + 0.2 * rng.standard_normal(len(times))),
                     h))
    elif anomaly == "bearing":
        x += db(lerp(-34, -18, s)) * bearing_signal(
            rng, u["shaft_hz"], u["bearing_ratio"], u["bearing_res"])
    return x


UNIT_FUNCS = {"fan": unit_fan, "pump": unit_pump, "valve": unit_valve,
              "slider": unit_slider, "gearbox": unit_gearbox}
CLIP_FUNCS = {"fan": clip_fan, "pump": clip_pump, "valve": clip_valve,
              "slider": clip_slider, "gearbox": clip_gearbox}


# --------------------------------------------------------------------------

def write_wav(path, x):
    pcm = np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(path + ".tmp", "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    os.replace(path + ".tmp", path)


def make_clip(job):
    seed, out, kind, unit_id, split, label, index, anomaly, sources = job
    unit = UNIT_FUNCS[kind](item_rng(seed, "unit", kind, unit_id))
    rng = item_rng(seed, "clip", kind, unit_id, split, label, index)
    severity = float(rng.uniform(0, 1)) if anomaly else 0.0
    x = CLIP_FUNCS[kind](rng, unit, anomaly, severity)
    x = apply_eq(x, unit["eq"], extra_db=rng.normal(0, 0.3, 10))
    x = db(LEVEL_DBFS) * unit_rms(x)
    bg, bg_desc = background(rng, sources)
    bg_snr = float(rng.uniform(12, 30))
    x = x + db(LEVEL_DBFS - bg_snr) * bg
    gain_db = float(rng.uniform(-GAIN_DB, GAIN_DB))
    x *= db(gain_db)
    peak = np.max(np.abs(x))
    if peak > PEAK:
        x *= PEAK / peak
    rel = os.path.join(kind, "id_%02d" % unit_id, split,
                       "%s_%04d.wav" % (label, index))
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_wav(path, x)
    return {
        "file": rel, "kind": kind, "unit": unit_id, "split": split,
        "label": label, "anomaly": anomaly, "severity": round(severity, 4),
        "gain_db": round(gain_db, 2), "background_snr_db": round(bg_snr, 2),
        "background_events": bg_desc,
        "rms_dbfs": round(20 * math.log10(rms(x)), 2),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out",
                                                  "anomaly", "data"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--units", type=int, default=4)
    ap.add_argument("--train", type=int, default=40,
                    help="normal training clips per unit")
    ap.add_argument("--test", type=int, default=25,
                    help="normal and anomalous test clips per unit (each)")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    sources = background_sources()
    kinds = [k for k in args.kinds.split(",") if k]
    jobs = []
    for kind in kinds:
        for unit_id in range(args.units):
            for i in range(args.train):
                jobs.append((args.seed, args.out, kind, unit_id, "train",
                             "normal", i, None, sources))
            for i in range(args.test):
                jobs.append((args.seed, args.out, kind, unit_id, "test",
                             "normal", i, None, sources))
            types = ANOMALIES[kind]
            for i in range(args.test):
                jobs.append((args.seed, args.out, kind, unit_id, "test",
                             "anomaly", i, types[i % len(types)], sources))
    os.makedirs(args.out, exist_ok=True)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        clips = list(pool.map(make_clip, jobs, chunksize=8))
    units = {kind: [UNIT_FUNCS[kind](item_rng(args.seed, "unit", kind, u))
                    for u in range(args.units)] for kind in kinds}
    manifest = {
        "seed": args.seed, "rate": SR, "clip_seconds": CLIP_S,
        "kinds": kinds, "units": args.units, "train_per_unit": args.train,
        "test_per_unit": args.test, "anomalies": ANOMALIES,
        "background_sources": sources, "unit_params": units, "clips": clips,
    }
    with open(os.path.join(args.out, "manifest.json.tmp"), "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(os.path.join(args.out, "manifest.json.tmp"),
               os.path.join(args.out, "manifest.json"))
    print("make-dataset: %d clips (%d kinds x %d units) in %s"
          % (len(clips), len(kinds), args.units, args.out))


if __name__ == "__main__":
    sys.exit(main())
