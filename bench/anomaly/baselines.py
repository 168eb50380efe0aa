#!/usr/bin/python3
"""Reference detectors and metrics for the machine-sound anomaly benchmark.

Everything in numpy (Debian's python3-numpy), nothing else:

* logmel_vectors(): the DCASE 2020 Task 2 baseline's features, as its
  common.py computes them with librosa 0.7: |STFT|^2 (1024-point periodic
  Hann window, hop 512, centred frames with reflect padding), 128 Slaney
  mel bands from 0 to 8 kHz (librosa.filters.mel with Slaney area
  normalisation), 10 log10 (mel + float eps), 5 consecutive frames
  concatenated into 640-dimensional vectors.
* DcaseAutoencoder: the baseline's keras_model.py: Dense(128) + batch
  normalisation + ReLU x 4, Dense(8) + BN + ReLU, Dense(128) + BN + ReLU
  x 4, Dense(640) linear; Glorot-uniform weights, zero biases, Keras
  BatchNormalization (momentum 0.99, epsilon 1e-3, moving statistics at
  inference), mean-squared-error loss, Adam (lr 1e-3, beta 0.9/0.999,
  epsilon 1e-7), batch 512, shuffled every epoch, the last 10 % of the
  vectors held out for validation (Keras validation_split).  File score:
  the mean over the file's vectors of the vector's mean squared error.
* Pca: reconstruction error of a principal-component subspace of the same
  vectors (components explaining --pca-variance of the training variance).
* rms_db(): the level of a file, as a trivial "detector".
* auc() and pauc(): ROC area and the partial area up to a false-positive
  rate of 0.1 divided by 0.1 (the DCASE definition; not McClish-
  standardised, so chance is 0.05).
"""

import sys
import wave

import numpy as np

SR = 16000
N_FFT = 1024
HOP = 512
N_MELS = 128
FRAMES = 5


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError("%s: not 16-bit PCM" % path)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        x = x.astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            x = x.reshape(-1, w.getnchannels()).mean(axis=1)
        return x, w.getframerate()


# --------------------------------------------------------------------------
# log-mel features (librosa 0.7 equivalents)

def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz,
                    min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz)
                    / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel,
                    min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filterbank(sr=SR, n_fft=N_FFT, n_mels=N_MELS):
    fftfreqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0),
                                   n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    return (weights * enorm[:, None]).astype(np.float32)


_MEL = None
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)) \
    .astype(np.float32)


def log_mel(x):
    """[frames][128] log-mel energies in dB, as the DCASE baseline."""
    global _MEL
    if _MEL is None:
        _MEL = mel_filterbank()
    pad = N_FFT // 2
    xp = np.pad(x.astype(np.float32), pad, mode="reflect")
    n_frames = 1 + (len(xp) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(xp[idx] * _WINDOW, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    mel = power @ _MEL.T
    return (10.0 * np.log10(mel + sys.float_info.epsilon)).astype(np.float32)


def stack_frames(lm, frames=FRAMES):
    n = lm.shape[0] - frames + 1
    if n <= 0:
        return np.zeros((0, lm.shape[1] * frames), np.float32)
    return np.concatenate([lm[t:t + n] for t in range(frames)], axis=1)


def logmel_vectors(x):
    return stack_frames(log_mel(x))


def rms_db(x):
    return 10.0 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20)


# --------------------------------------------------------------------------
# the DCASE 2020 Task 2 baseline autoencoder

class DcaseAutoencoder:
    WIDTHS = [128, 128, 128, 128, 8, 128, 128, 128, 128]
    BN_MOMENTUM = 0.99
    BN_EPS = 1e-3

    def __init__(self, dim, seed=0):
        rng = np.random.default_rng(seed)
        sizes = [dim] + self.WIDTHS + [dim]
        self.W, self.b, self.gamma, self.beta, self.mean, self.var = \
            [], [], [], [], [], []
        for i in range(len(sizes) - 1):
            limit = np.sqrt(6.0 / (sizes[i] + sizes[i + 1]))
            self.W.append(rng.uniform(-limit, limit, (sizes[i], sizes[i + 1]))
                          .astype(np.float32))
            self.b.append(np.zeros(sizes[i + 1], np.float32))
            if i < len(self.WIDTHS):
                n = sizes[i + 1]
                self.gamma.append(np.ones(n, np.float32))
                self.beta.append(np.zeros(n, np.float32))
                self.mean.append(np.zeros(n, np.float32))
                self.var.append(np.ones(n, np.float32))
        self.rng = rng

    def params(self):
        return self.W + self.b + self.gamma + self.beta

    def forward(self, x, train):
        cache = []
        h = x
        n_hidden = len(self.WIDTHS)
        for i in range(n_hidden):
            z = h @ self.W[i] + self.b[i]
            if train:
                mu = z.mean(axis=0)
                var = z.var(axis=0)
                m = self.BN_MOMENTUM
                self.mean[i] = m * self.mean[i] + (1 - m) * mu
                self.var[i] = m * self.var[i] + (1 - m) * var
            else:
                mu, var = self.mean[i], self.var[i]
            inv = 1.0 / np.sqrt(var + self.BN_EPS)
            zhat = (z - mu) * inv
            y = self.gamma[i] * zhat + self.beta[i]
            a = np.maximum(y, 0)
            cache.append((h, zhat, inv, y))
            h = a
        out = h @ self.W[-1] + self.b[-1]
        cache.append((h,))
        return out, cache

    def backward(self, dout, cache):
        n_hidden = len(self.WIDTHS)
        gW = [None] * len(self.W)
        gb = [None] * len(self.b)
        gg = [None] * n_hidden
        gbe = [None] * n_hidden
        h = cache[-1][0]
        gW[-1] = h.T @ dout
        gb[-1] = dout.sum(axis=0)
        dh = dout @ self.W[-1].T
        for i in reversed(range(n_hidden)):
            h_in, zhat, inv, y = cache[i]
            dy = dh * (y > 0)
            gg[i] = (dy * zhat).sum(axis=0)
            gbe[i] = dy.sum(axis=0)
            dzhat = dy * self.gamma[i]
            n = dzhat.shape[0]
            dz = inv / n * (n * dzhat - dzhat.sum(axis=0)
                            - zhat * (dzhat * zhat).sum(axis=0))
            gW[i] = h_in.T @ dz
            gb[i] = dz.sum(axis=0)
            if i > 0:
                dh = dz @ self.W[i].T
        return gW + gb + gg + gbe

    def fit(self, data, epochs, batch_size=512, lr=1e-3, log=None):
        data = data.astype(np.float32)
        n_val = int(len(data) * 0.1)
        train, val = data[:len(data) - n_val], data[len(data) - n_val:]
        params = self.params()
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        b1, b2, eps = 0.9, 0.999, 1e-7
        step = 0
        history = []
        for epoch in range(epochs):
            order = self.rng.permutation(len(train))
            total = 0.0
            for s in range(0, len(order), batch_size):
                xb = train[order[s:s + batch_size]]
                out, cache = self.forward(xb, True)
                diff = out - xb
                total += float(np.mean(diff * diff)) * len(xb)
                dout = (2.0 / diff.size) * diff
                grads = self.backward(dout, cache)
                step += 1
                lr_t = lr * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
                for p, g, mi, vi in zip(params, grads, m, v):
                    mi *= b1
                    mi += (1 - b1) * g
                    vi *= b2
                    vi += (1 - b2) * g * g
                    p -= (lr_t * mi / (np.sqrt(vi) + eps)).astype(np.float32)
            val_loss = float(np.mean(self.errors(val))) if len(val) else \
                float("nan")
            history.append((total / len(train), val_loss))
            if log:
                log("epoch %d/%d loss %.3f val %.3f" % (epoch + 1, epochs,
                                                       history[-1][0],
                                                       val_loss))
        return history

    def errors(self, data):
        out, _ = self.forward(data.astype(np.float32), False)
        return np.mean((out - data) ** 2, axis=1)

    def file_score(self, vectors):
        return float(np.mean(self.errors(vectors)))


class Pca:
    def __init__(self, variance=0.9, max_components=64):
        self.variance = variance
        self.max_components = max_components

    def fit(self, data):
        data = data.astype(np.float64)
        self.mu = data.mean(axis=0)
        cov = np.cov((data - self.mu).T)
        w, vec = np.linalg.eigh(cov)
        order = np.argsort(w)[::-1]
        w, vec = w[order], vec[:, order]
        frac = np.cumsum(w) / np.sum(w)
        k = int(np.searchsorted(frac, self.variance) + 1)
        self.k = min(k, self.max_components)
        self.P = vec[:, :self.k]
        return self

    def errors(self, data):
        c = data.astype(np.float64) - self.mu
        r = c - (c @ self.P) @ self.P.T
        return np.mean(r * r, axis=1)

    def file_score(self, vectors):
        return float(np.mean(self.errors(vectors)))


# --------------------------------------------------------------------------
# metrics

def roc(labels, scores):
    """False- and true-positive rates at every threshold (ties grouped)."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    distinct = np.nonzero(np.diff(s))[0]
    ends = np.concatenate([distinct, [len(s) - 1]])
    tps = np.cumsum(y)[ends]
    fps = (ends + 1) - tps
    tpr = np.concatenate([[0.0], tps / max(1, y.sum())])
    fpr = np.concatenate([[0.0], fps / max(1, (~y).sum())])
    return fpr, tpr


def auc(labels, scores):
    fpr, tpr = roc(labels, scores)
    return float(np.trapz(tpr, fpr))


def pauc(labels, scores, max_fpr=0.1):
    """Area under the ROC curve for FPR in [0, max_fpr], divided by
    max_fpr (linear interpolation at max_fpr)."""
    fpr, tpr = roc(labels, scores)
    stop = np.searchsorted(fpr, max_fpr, side="right")
    x = np.concatenate([fpr[:stop], [max_fpr]])
    y = np.concatenate([tpr[:stop], [np.interp(max_fpr, fpr, tpr)]])
    return float(np.trapz(y, x) / max_fpr)
