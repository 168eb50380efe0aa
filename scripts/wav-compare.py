#!/usr/bin/env python3
"""Prints what a denoiser did to a WAV file: durations, sample counts,
levels, and the level change in the quietest and loudest parts.

Usage: wav-compare.py INPUT.wav OUTPUT.wav
Standard library only (16-bit or 32-bit float PCM WAV).
"""
import array
import math
import struct
import sys


def read_wav(path):
    """Returns (rate, channels, mono float samples) of a PCM/float WAV."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("%s: not a WAV file" % path)
    pos = 12
    fmt = None
    pcm = None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            pcm = body
        pos += 8 + size + (size & 1)
    if fmt is None or pcm is None:
        raise ValueError("%s: no fmt or data chunk" % path)
    tag, channels, rate, _, _, bits = fmt
    if tag == 3 and bits == 32:
        samples = array.array("f")
        samples.frombytes(pcm[:len(pcm) - len(pcm) % 4])
        values = list(samples)
    elif bits == 16:
        samples = array.array("h")
        samples.frombytes(pcm[:len(pcm) - len(pcm) % 2])
        values = [s / 32768.0 for s in samples]
    else:
        raise ValueError("%s: unsupported WAV format (tag %d, %d bits)" % (path, tag, bits))
    mono = [sum(values[i:i + channels]) / channels
            for i in range(0, len(values) - channels + 1, channels)]
    return rate, channels, mono


def db(x):
    return 10.0 * math.log10(max(x, 1e-12))


def frame_powers(samples, n):
    return [sum(v * v for v in samples[i:i + n]) / n
            for i in range(0, len(samples) - n + 1, n)]


def main():
    rate_in, ch_in, x = read_wav(sys.argv[1])
    rate_out, ch_out, y = read_wav(sys.argv[2])
    print("input : %s: %d Hz, %d ch, %d samples (%.3f s), level %.1f dBFS"
          % (sys.argv[1], rate_in, ch_in, len(x), len(x) / rate_in,
             db(sum(v * v for v in x) / max(len(x), 1))))
    print("output: %s: %d Hz, %d ch, %d samples (%.3f s), level %.1f dBFS"
          % (sys.argv[2], rate_out, ch_out, len(y), len(y) / rate_out,
             db(sum(v * v for v in y) / max(len(y), 1))))
    if rate_in == rate_out:
        print("samples in == samples out: %s" % ("yes" if len(x) == len(y) else "NO"))
        n = rate_in // 50  # 20 ms frames
        px, py = frame_powers(x, n), frame_powers(y[:len(x)], n)
        order = sorted(range(len(px)), key=lambda i: px[i])
        tenth = max(1, len(order) // 10)
        quiet, loud = order[:tenth], order[-tenth:]
        print("level change in the quietest 10%% of the input (noise only): %+.1f dB"
              % (db(sum(py[i] for i in quiet)) - db(sum(px[i] for i in quiet))))
        print("level change in the loudest 10%% of the input (speech): %+.1f dB"
              % (db(sum(py[i] for i in loud)) - db(sum(px[i] for i in loud))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
