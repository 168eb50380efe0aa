#!/usr/bin/python3
"""Unit tests for bench/quality/metrics.py.  Run: /usr/bin/python3 test_metrics.py

Needs numpy only.  The real-speech checks also need ffmpeg and the
asterisk Italian prompts (asterisk-core-sounds-it-g722); they are skipped
when those are missing.  What is checked, and against what:

- SI-SDR: exact identities (x + noise orthogonal to x at a known SNR gives
  that SNR within 0.01 dB; scale invariance; identical signals give a huge
  value; independent long noise gives the SNR within a statistical bound).
- STOI/ESTOI: the properties the published definitions imply (identical
  signals give 1; invariance to the gain of the processed signal; near 0
  for unrelated signals; monotonic in SNR), the published band layout
  (15 one-third-octave bands, centres 150 Hz ... 3.8 kHz), and, with real
  speech, plausibility ranges for speech + white noise taken from the
  literature (STOI about 0.6-0.9 at 0 dB).  No bit-exact reference values
  (pystoi / the MATLAB code) are available on this machine.
"""

import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics  # noqa: E402

IT_DIR = "/usr/share/asterisk/sounds/it_IT_m_Carlo"


def speech_like(fs, seconds, seed):
    """Voiced harmonic source with gliding pitch, two moving formants and a
    4 Hz syllabic envelope with pauses: a deterministic speech stand-in."""
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    t = np.arange(n) / fs
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t) + 10 * np.sin(2 * np.pi * 2.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / fs
    x = np.zeros(n)
    f1 = 500 + 300 * np.sin(2 * np.pi * 1.1 * t)
    f2 = 1500 + 700 * np.sin(2 * np.pi * 0.9 * t + 1.0)
    for h in range(1, 40):
        fh = h * f0
        amp = (np.exp(-((fh - f1) / 200) ** 2) + 0.5 * np.exp(-((fh - f2) / 300) ** 2)
               + 0.02) / h ** 0.5
        amp[fh > fs / 2 - 200] = 0
        x += amp * np.sin(h * phase)
    env = np.clip(np.sin(2 * np.pi * 4 * t) + 0.3, 0, None)
    env *= (np.sin(2 * np.pi * 0.5 * t) > -0.6)   # pauses
    x = x * env + 0.001 * rng.standard_normal(n)
    return x / np.max(np.abs(x)) * 0.5


def load_real_speech():
    if not shutil.which("ffmpeg") or not os.path.isdir(IT_DIR):
        return None
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in ("vm-intro", "vm-nomore", "hello-world"):
            out = os.path.join(tmp, p + ".wav")
            subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "g722", "-i",
                            os.path.join(IT_DIR, p + ".g722"), "-ar", "16000", "-ac",
                            "1", out], check=True)
            with wave.open(out) as w:
                parts.append(np.frombuffer(w.readframes(w.getnframes()),
                                           dtype="<i2").astype(np.float64) / 32768)
    return np.concatenate(parts)


def mix_at_snr(x, noise, snr_db):
    g = math.sqrt(np.sum(x ** 2) / (np.sum(noise ** 2) * 10 ** (snr_db / 10)))
    return x + g * noise


class TestSiSdr(unittest.TestCase):
    def setUp(self):
        self.x = speech_like(16000, 3.0, 1)
        self.x -= self.x.mean()

    def test_identical_is_huge(self):
        self.assertGreater(metrics.si_sdr(self.x, self.x), 100)

    def test_known_snr_orthogonal_noise(self):
        rng = np.random.default_rng(2)
        n = rng.standard_normal(len(self.x))
        n -= n.mean()
        n -= np.dot(n, self.x) / np.dot(self.x, self.x) * self.x
        for snr in (-5, 0, 5, 10, 15, 20, 30):
            self.assertAlmostEqual(metrics.si_sdr(self.x, mix_at_snr(self.x, n, snr)),
                                   snr, delta=0.01)

    def test_known_snr_independent_noise(self):
        # Without orthogonalisation the projection picks up <n, x>; with
        # 10 s at 16 kHz the error is a few hundredths of a dB at most.
        x = speech_like(16000, 10.0, 3)
        rng = np.random.default_rng(4)
        n = rng.standard_normal(len(x))
        for snr in (0, 10, 20):
            self.assertAlmostEqual(metrics.si_sdr(x, mix_at_snr(x, n, snr)), snr,
                                   delta=0.1)

    def test_scale_invariant(self):
        rng = np.random.default_rng(5)
        y = self.x + 0.1 * rng.standard_normal(len(self.x))
        ref = metrics.si_sdr(self.x, y)
        for g in (0.01, 0.5, 3.0, 100.0):
            self.assertAlmostEqual(metrics.si_sdr(self.x, g * y), ref, places=9)
            self.assertAlmostEqual(metrics.si_sdr(g * self.x, y), ref, places=9)

    def test_improvement_sign(self):
        rng = np.random.default_rng(6)
        n = rng.standard_normal(len(self.x))
        noisy = mix_at_snr(self.x, n, 0)
        better = mix_at_snr(self.x, n, 6)
        self.assertGreater(metrics.si_sdr(self.x, better), metrics.si_sdr(self.x, noisy) + 5.9)


class TestResample(unittest.TestCase):
    def test_sine(self):
        for fs in (16000, 48000, 44100):
            t = np.arange(int(fs * 0.5)) / fs
            y = metrics.resample_fft(np.sin(2 * np.pi * 1000 * t), fs, 10000)
            self.assertEqual(len(y), int(round(len(t) * 10000 / fs)))
            t2 = np.arange(len(y)) / 10000
            ref = np.sin(2 * np.pi * 1000 * t2)
            mid = slice(200, len(y) - 200)   # away from the circular edges
            self.assertLess(np.max(np.abs(y[mid] - ref[mid])), 1e-3)

    def test_removes_above_nyquist(self):
        fs = 48000
        t = np.arange(fs) / fs
        y = metrics.resample_fft(np.sin(2 * np.pi * 7000 * t), fs, 10000)
        self.assertLess(np.sqrt(np.mean(y[500:-500] ** 2)), 1e-3)


class TestStoi(unittest.TestCase):
    def setUp(self):
        self.x = speech_like(16000, 4.0, 7)

    def test_bands(self):
        obm = metrics._OBM
        self.assertEqual(obm.shape, (15, 257))
        f = np.linspace(0, 10000, 513)[:257]
        centres = [np.sum(f * row) / np.sum(row) for row in obm]
        self.assertAlmostEqual(centres[0], 150, delta=15)
        self.assertAlmostEqual(centres[-1], 150 * 2 ** (14 / 3), delta=150)
        self.assertTrue(np.all(np.diff(centres) > 0))
        self.assertTrue(np.all(obm.sum(axis=0) <= 1))   # bands do not overlap

    def test_identical_is_one(self):
        for fs in (16000, 48000):
            x = speech_like(fs, 3.0, 8)
            self.assertAlmostEqual(metrics.stoi(x, x, fs), 1.0, places=6)
            self.assertAlmostEqual(metrics.estoi(x, x, fs), 1.0, places=6)

    def test_gain_invariant(self):
        rng = np.random.default_rng(9)
        y = mix_at_snr(self.x, rng.standard_normal(len(self.x)), 5)
        for ext in (False, True):
            a = metrics.stoi(self.x, y, 16000, extended=ext)
            b = metrics.stoi(self.x, 0.01 * y, 16000, extended=ext)
            self.assertAlmostEqual(a, b, places=6)

    def test_unrelated_is_low(self):
        rng = np.random.default_rng(10)
        y = rng.standard_normal(len(self.x))
        # STOI's -15 dB clipping bounds the processed envelope by the clean
        # one, which leaves a floor of roughly 0.3-0.45 for unrelated
        # signals; ESTOI has no clipping and goes to about 0.
        self.assertLess(metrics.stoi(self.x, y, 16000), 0.5)
        self.assertLess(abs(metrics.estoi(self.x, y, 16000)), 0.1)

    def test_monotonic_in_snr(self):
        rng = np.random.default_rng(11)
        n = rng.standard_normal(len(self.x))
        s = [metrics.stoi(self.x, mix_at_snr(self.x, n, snr), 16000)
             for snr in (-15, -10, -5, 0, 5, 10, 20)]
        e = [metrics.estoi(self.x, mix_at_snr(self.x, n, snr), 16000)
             for snr in (-15, -10, -5, 0, 5, 10, 20)]
        self.assertTrue(np.all(np.diff(s) > 0), s)
        self.assertTrue(np.all(np.diff(e) > 0), e)

    def test_intelligibility_matches(self):
        rng = np.random.default_rng(15)
        y = mix_at_snr(self.x, rng.standard_normal(len(self.x)), 3)
        s, e, low = metrics.intelligibility(self.x, y, 16000)
        self.assertAlmostEqual(s, metrics.stoi(self.x, y, 16000), places=12)
        self.assertAlmostEqual(e, metrics.estoi(self.x, y, 16000), places=12)
        self.assertAlmostEqual(low, metrics.low_level_estoi(self.x, y, 16000), places=12)
        self.assertLess(low, e + 0.2)

    def test_silence_removal_ignores_appended_silence(self):
        rng = np.random.default_rng(12)
        y = mix_at_snr(self.x, rng.standard_normal(len(self.x)), 0)
        pad = np.zeros(16000)
        a = metrics.stoi(self.x, y, 16000)
        b = metrics.stoi(np.concatenate([pad, self.x, pad]),
                         np.concatenate([pad, y, pad]), 16000)
        self.assertAlmostEqual(a, b, delta=0.01)


@unittest.skipIf(load_real_speech() is None, "ffmpeg or asterisk-core-sounds-it-g722 missing")
class TestRealSpeech(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.x = load_real_speech()

    def test_white_noise_ranges(self):
        rng = np.random.default_rng(13)
        n = rng.standard_normal(len(self.x))
        snrs = (-5, 0, 5, 10, 20)
        s = [metrics.stoi(self.x, mix_at_snr(self.x, n, snr), 16000) for snr in snrs]
        e = [metrics.estoi(self.x, mix_at_snr(self.x, n, snr), 16000) for snr in snrs]
        self.assertTrue(np.all(np.diff(s) > 0), s)
        self.assertTrue(np.all(np.diff(e) > 0), e)
        # Literature: speech + white noise at 0 dB scores STOI ~0.6-0.9
        # (ESTOI is lower, ~0.4-0.7); at 20 dB STOI is above 0.95.
        self.assertTrue(0.6 < s[1] < 0.9, s)
        self.assertTrue(0.35 < e[1] < 0.75, e)
        self.assertGreater(s[-1], 0.95)
        self.assertLess(e[1], s[1])

    def test_delay_estimation(self):
        rng = np.random.default_rng(14)
        y = mix_at_snr(self.x, rng.standard_normal(len(self.x)), 0)
        for d in (0, 37, 160, -50, 800):
            shifted = np.roll(y, d)
            est = metrics.estimate_delay(self.x, shifted, 800)
            self.assertEqual(est, d)
            al = metrics.align(shifted, est, len(self.x))
            if d >= 0:
                np.testing.assert_allclose(al[:len(y) - d], y[:len(y) - d])


if __name__ == "__main__":
    unittest.main(verbosity=2)
