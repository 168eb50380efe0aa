"""Speech quality metrics for the denoising benchmark (numpy only).

- si_sdr(): scale-invariant signal-to-distortion ratio (Le Roux, Wisdom,
  Erdogan, Hershey, "SDR - half-baked or well done?", ICASSP 2019), in dB.
- stoi(): short-time objective intelligibility (Taal, Hendriks, Heusdens,
  Jensen, "An algorithm for intelligibility prediction of time-frequency
  weighted noisy speech", IEEE TASLP 19(7), 2011).
- stoi(..., extended=True): extended STOI (Jensen, Taal, "An algorithm for
  predicting the intelligibility of speech masked by modulated noise
  maskers", IEEE/ACM TASLP 24(11), 2016).
- estimate_delay() / align(): delay compensation by cross-correlation.

STOI/ESTOI follow the reference MATLAB implementations: resampling to
10 kHz, 256-sample Hann frames (MATLAB hanning(256)) with 50 % overlap,
512-point FFT, 15 one-third-octave bands from 150 Hz, 30-frame (384 ms)
segments, clipping at beta = -15 dB (STOI only), and removal of frames more
than 40 dB below the loudest frame of the clean signal.  The only deliberate
difference is the 10 kHz resampler (FFT band limiting here, a Kaiser FIR in
MATLAB's resample()); it changes scores by well under 0.01.
"""

import math

import numpy as np

FS_STOI = 10000
N_FRAME = 256
NFFT = 512
NUM_BANDS = 15
MIN_FREQ = 150.0
N_SEGMENT = 30
BETA_DB = -15.0
DYN_RANGE_DB = 40.0
EPS = np.finfo(np.float64).eps


def si_sdr(reference, estimate):
    """SI-SDR of estimate against reference, in dB (both 1-D, same length).

    Both signals are made zero-mean; the reference is scaled by the optimal
    factor <estimate, reference> / ||reference||^2.
    """
    s = np.asarray(reference, dtype=np.float64)
    e = np.asarray(estimate, dtype=np.float64)
    if s.shape != e.shape:
        raise ValueError("si_sdr: shapes differ: %s vs %s" % (s.shape, e.shape))
    s = s - s.mean()
    e = e - e.mean()
    ss = np.dot(s, s)
    if ss <= 0.0:
        raise ValueError("si_sdr: silent reference")
    alpha = np.dot(e, s) / ss
    target = alpha * s
    resid = e - target
    num = np.dot(target, target)
    den = np.dot(resid, resid)
    if den <= 0.0:
        return math.inf
    if num <= 0.0:
        return -math.inf
    return 10.0 * math.log10(num / den)


def resample_fft(x, fs_in, fs_out):
    """Band-limited resampling by FFT truncation/zero-padding.

    x is zero-padded to a whole number of periods of the rate ratio so the
    output length is exact; the padding is removed from the output.
    """
    x = np.asarray(x, dtype=np.float64)
    if fs_in == fs_out:
        return x.copy()
    g = math.gcd(int(fs_in), int(fs_out))
    up, down = fs_out // g, fs_in // g
    n = len(x)
    n_pad = -(-n // down) * down
    xp = np.zeros(n_pad)
    xp[:n] = x
    m = n_pad * up // down
    spec = np.fft.rfft(xp)
    k = m // 2 + 1
    out = np.zeros(k, dtype=np.complex128)
    kk = min(k, len(spec))
    out[:kk] = spec[:kk]
    if m % 2 == 0 and kk == k:
        # Nyquist bin of the shorter transform must be real.
        out[-1] = out[-1].real
    y = np.fft.irfft(out, m) * (m / n_pad)
    return y[:int(round(n * up / down))]


def _hanning(n):
    # MATLAB hanning(n): no zero end points.
    return np.hanning(n + 2)[1:-1]


def _third_octave_matrix(fs, nfft, num_bands, min_freq):
    f = np.linspace(0, fs, nfft + 1)[:nfft // 2 + 1]
    k = np.arange(num_bands, dtype=np.float64)
    freq_low = min_freq * 2.0 ** ((2 * k - 1) / 6)
    freq_high = min_freq * 2.0 ** ((2 * k + 1) / 6)
    obm = np.zeros((num_bands, len(f)))
    for i in range(num_bands):
        lo = int(np.argmin((f - freq_low[i]) ** 2))
        hi = int(np.argmin((f - freq_high[i]) ** 2))
        obm[i, lo:hi] = 1.0
    return obm


_OBM = _third_octave_matrix(FS_STOI, NFFT, NUM_BANDS, MIN_FREQ)


def _frame_starts(n, frame_len, hop):
    # MATLAB 1:hop:(n - frame_len), zero-based.
    return np.arange(0, max(n - frame_len, 0), hop)


def _remove_silent_frames(x, y, dyn_range, frame_len, hop):
    """Drop frames whose clean-speech energy is dyn_range dB below the
    loudest; overlap-add the remaining windowed frames (removeSilentFrames.m).
    """
    w = _hanning(frame_len)
    starts = _frame_starts(len(x), frame_len, hop)
    if len(starts) == 0:
        return x[:0], y[:0]
    idx = starts[:, None] + np.arange(frame_len)[None, :]
    xf = x[idx] * w
    yf = y[idx] * w
    energy = 20.0 * np.log10(np.linalg.norm(xf, axis=1) / math.sqrt(frame_len) + EPS)
    keep = (energy - energy.max() + dyn_range) > 0
    xf = xf[keep]
    yf = yf[keep]
    count = xf.shape[0]
    out_len = (count - 1) * hop + frame_len
    xs = np.zeros(out_len)
    ys = np.zeros(out_len)
    for j in range(count):
        xs[j * hop:j * hop + frame_len] += xf[j]
        ys[j * hop:j * hop + frame_len] += yf[j]
    return xs, ys


def _stdft(x, frame_len, hop, nfft):
    w = _hanning(frame_len)
    starts = _frame_starts(len(x), frame_len, hop)
    idx = starts[:, None] + np.arange(frame_len)[None, :]
    return np.fft.rfft(x[idx] * w, n=nfft, axis=1).T   # (bins, frames)


def _tob(x):
    spec = _stdft(x, N_FRAME, N_FRAME // 2, NFFT)
    return np.sqrt(_OBM @ (np.abs(spec) ** 2))          # (bands, frames)


def _segments(tob):
    n = tob.shape[1]
    if n < N_SEGMENT:
        return None
    # (segments, bands, N)
    return np.stack([tob[:, m - N_SEGMENT:m] for m in range(N_SEGMENT, n + 1)])


def _speech_segments(clean, processed, fs, name):
    """The 30-frame one-third-octave envelope segments of clean and
    processed after resampling to 10 kHz and silent-frame removal (the
    common first steps of STOI and ESTOI)."""
    x = np.asarray(clean, dtype=np.float64)
    y = np.asarray(processed, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError("%s: shapes differ: %s vs %s" % (name, x.shape,
                                                          y.shape))
    if fs != FS_STOI:
        x = resample_fft(x, fs, FS_STOI)
        y = resample_fft(y, fs, FS_STOI)
    x, y = _remove_silent_frames(x, y, DYN_RANGE_DB, N_FRAME, N_FRAME // 2)
    xs = _segments(_tob(x)) if len(x) else None
    ys = _segments(_tob(y)) if len(y) else None
    if xs is None or ys is None:
        raise ValueError("%s: fewer than %d non-silent frames"
                         % (name, N_SEGMENT))
    return xs, ys


def _estoi_per_segment(xs, ys):
    return np.sum(_row_col_normalize(xs) * _row_col_normalize(ys),
                  axis=(1, 2)) / N_SEGMENT


def _quietest_mean(d, xs, fraction):
    """Mean of d over the `fraction` of segments with the least clean
    energy."""
    energy = np.sum(xs ** 2, axis=(1, 2))
    k = max(1, int(round(fraction * len(d))))
    return float(np.mean(d[np.argsort(energy)[:k]]))


def stoi(clean, processed, fs, extended=False):
    """STOI (or ESTOI with extended=True) of processed against clean.

    clean, processed: 1-D arrays at sample rate fs, time-aligned, same
    length.  Returns a float, normally in [0, 1] for STOI, [-1, 1] in
    principle (close to [0, 1] in practice) for ESTOI.
    """
    xs, ys = _speech_segments(clean, processed, fs, "stoi")
    if extended:
        return float(np.mean(_estoi_per_segment(xs, ys)))
    return _stoi_segments(xs, ys)


def _stoi_segments(xs, ys):
    norm = np.linalg.norm(xs, axis=2, keepdims=True) / \
        (np.linalg.norm(ys, axis=2, keepdims=True) + EPS)
    clip = 10.0 ** (-BETA_DB / 20.0)
    yp = np.minimum(ys * norm, xs * (1.0 + clip))
    xc = xs - xs.mean(axis=2, keepdims=True)
    yc = yp - yp.mean(axis=2, keepdims=True)
    num = np.sum(xc * yc, axis=2)
    den = np.linalg.norm(xc, axis=2) * np.linalg.norm(yc, axis=2) + EPS
    return float(np.mean(num / den))


def _row_col_normalize(seg):
    # Each band's envelope over the segment: zero mean, unit norm; then each
    # frame's spectrum across bands: zero mean, unit norm.
    s = seg - seg.mean(axis=2, keepdims=True)
    s = s / (np.linalg.norm(s, axis=2, keepdims=True) + EPS)
    s = s - s.mean(axis=1, keepdims=True)
    s = s / (np.linalg.norm(s, axis=1, keepdims=True) + EPS)
    return s


def estoi(clean, processed, fs):
    return stoi(clean, processed, fs, extended=True)


def estimate_delay(reference, output, max_lag):
    """Lag d (samples, |d| <= max_lag) maximising sum ref[n] * out[n + d].

    A positive d means the output is late by d samples.
    """
    r = np.asarray(reference, dtype=np.float64)
    o = np.asarray(output, dtype=np.float64)
    n = len(r) + len(o)
    nfft = 1 << (n - 1).bit_length()
    c = np.fft.irfft(np.fft.rfft(o, nfft) * np.conj(np.fft.rfft(r, nfft)), nfft)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    vals = c[lags % nfft]
    return int(lags[int(np.argmax(vals))])


def align(output, delay, length):
    """output advanced by delay samples, zero-padded/trimmed to length."""
    o = np.asarray(output, dtype=np.float64)
    y = np.zeros(length)
    if delay >= 0:
        seg = o[delay:delay + length]
        y[:len(seg)] = seg
    else:
        seg = o[:max(length + delay, 0)]
        y[-delay:-delay + len(seg)] = seg
    return y


def intelligibility(clean, processed, fs, fraction=0.2):
    """(STOI, ESTOI, ESTOI of the quietest `fraction`), sharing the work."""
    xs, ys = _speech_segments(clean, processed, fs, "intelligibility")
    d = _estoi_per_segment(xs, ys)
    return _stoi_segments(xs, ys), float(np.mean(d)), \
        _quietest_mean(d, xs, fraction)


def low_level_estoi(clean, processed, fs, fraction=0.2):
    """ESTOI restricted to the quietest `fraction` of the speech segments.

    An ear-proxy for clipped word onsets/offsets and musical noise in weak
    speech: the 30-frame ESTOI segments are ranked by clean-speech energy
    (after silent-frame removal) and only the lowest fraction is averaged.
    """
    xs, ys = _speech_segments(clean, processed, fs, "low_level_estoi")
    return _quietest_mean(_estoi_per_segment(xs, ys), xs, fraction)
