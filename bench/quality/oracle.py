#!/usr/bin/python3
"""Ideal-gain ceilings on the evaluation set: what band gains can do at best.

For every item of an evaluation set (make-evalset.py) the clean speech and
the noise (noisy minus clean) are known, so the gains a perfect model would
apply can be computed and scored like a system:

  band-irm     sqrt (S_b / X_b) per band, capped at 1: the target the
               trainer teaches (S_b, X_b: the speech and mixture energies
               of band b, triangular ERB bands as libdae lays them out),
               interpolated to the bins as the processor does
  band-wiener  S_b / (S_b + N_b) per band
  bin-wiener   S_k / (S_k + N_k) per FFT bin: no bands at all

The gap between a model and band-irm is what the network misses; the gap
between band-irm and bin-wiener is what the band resolution costs.  The
analysis is libdae's (sqrt-Hann window of 20 ms, 10 ms hop, bands from 50 Hz
to min (0.45 rate, 20 kHz), ERB-spaced centres); the printout is the SI-SDR
improvement in dB, mean and per SNR bucket.

  /usr/bin/python3 bench/quality/oracle.py --evalset bench/out/evalset \\
      --rate 16000 --bands 40
"""

import argparse
import json
import os
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics import si_sdr  # noqa: E402

BAND_MIN_HZ = 50.0
BAND_MAX_FRACTION = 0.45
BAND_MAX_HZ = 20000.0


def read_wav(path):
    with wave.open(path) as w:
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def erb_rate(hz):
    return 21.4 * np.log10(1.0 + 0.00437 * hz)


def hz_from_erb_rate(erb):
    return (10.0 ** (erb / 21.4) - 1.0) / 0.00437


def band_weights(rate, n_fft, n_bands):
    """[n_bands][n_bins] weights as dae_bands_init () makes them: each bin
    goes to the two bands whose centres surround it, linearly."""
    lo = BAND_MIN_HZ
    hi = min(BAND_MAX_FRACTION * rate, BAND_MAX_HZ)
    centres = hz_from_erb_rate(np.linspace(erb_rate(lo), erb_rate(hi), n_bands))
    centres[0], centres[-1] = lo, hi
    freqs = np.arange(n_fft // 2 + 1) * rate / n_fft
    w = np.zeros((n_bands, len(freqs)))
    for k, f in enumerate(freqs):
        if f <= centres[0]:
            w[0, k] = 1.0
        elif f >= centres[-1]:
            w[-1, k] = 1.0
        else:
            b = np.searchsorted(centres, f, side="right") - 1
            frac = (f - centres[b]) / (centres[b + 1] - centres[b])
            w[b, k] = 1.0 - frac
            w[b + 1, k] = frac
    return w


def stft(x, n, hop):
    window = np.sqrt(np.hanning(n + 1)[:n])
    padded = np.concatenate([np.zeros(n), x, np.zeros(2 * n)])
    count = 1 + (len(x) + n) // hop
    frames = np.stack([padded[i * hop:i * hop + n] * window
                       for i in range(count)])
    return np.fft.rfft(frames, axis=1), window


def istft(spec, window, n, hop, length):
    frames = np.fft.irfft(spec, n=n, axis=1) * window
    y = np.zeros(hop * len(frames) + n)
    for i, f in enumerate(frames):
        y[i * hop:i * hop + n] += f
    return y[n:n + length]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evalset", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "out", "evalset"))
    ap.add_argument("--rate", type=int, default=16000)
    ap.add_argument("--bands", type=int, action="append",
                    help="band count (repeatable; default 40 at 16 kHz, "
                    "48 otherwise, the shipped models')")
    args = ap.parse_args()
    bands = args.bands or [40 if args.rate == 16000 else 48]

    manifest = json.load(open(os.path.join(args.evalset, "manifest.json")))
    items = [it for it in manifest["items"] if it["rate"] == args.rate]
    if not items:
        sys.exit("oracle: no %d Hz items in %s" % (args.rate, args.evalset))
    n = args.rate // 50
    hop = n // 2
    weights = {nb: band_weights(args.rate, n, nb) for nb in bands}
    scores = {}
    for it in items:
        clean = read_wav(os.path.join(args.evalset, it["clean"]))
        noisy = read_wav(os.path.join(args.evalset, it["noisy"]))
        s_spec, window = stft(clean, n, hop)
        x_spec, _ = stft(noisy, n, hop)
        n_spec, _ = stft(noisy - clean, n, hop)
        ps, pn, px = (np.abs(a) ** 2 for a in (s_spec, n_spec, x_spec))
        gains = {"bin-wiener": ps / (ps + pn + 1e-20)}
        for nb, w in weights.items():
            sb, nbe, xb = ps @ w.T, pn @ w.T, px @ w.T
            gains["band%d-irm" % nb] = np.minimum(
                np.sqrt(sb / (xb + 1e-20)), 1.0) @ w
            gains["band%d-wiener" % nb] = (sb / (sb + nbe + 1e-20)) @ w
        base = si_sdr(clean, noisy)
        for name, g in gains.items():
            y = istft(x_spec * g, window, n, hop, len(clean))
            scores.setdefault(name, {}).setdefault(it["snr"], []).append(
                si_sdr(clean, y) - base)

    snrs = sorted({it["snr"] for it in items})
    print("SI-SDR improvement of ideal gains, %d Hz, %d items (dB)"
          % (args.rate, len(items)))
    print("%-14s %6s " % ("gains", "mean") + " ".join("%6d" % s for s in snrs))
    for name, per in scores.items():
        everything = [v for vals in per.values() for v in vals]
        print("%-14s %6.2f " % (name, np.mean(everything))
              + " ".join("%6.2f" % np.mean(per[s]) for s in snrs))


if __name__ == "__main__":
    main()
