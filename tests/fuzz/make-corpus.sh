#!/bin/sh
# Regenerates the seed corpora in tests/fuzz/corpus/ (committed; run this
# only when a format or a fuzz program changes).  Model seeds are tiny
# models written by dae-mkmodel; processor and element seeds are small
# programs in the byte language of fuzz-processor.c and fuzz-element.c.
#
# Usage: tests/fuzz/make-corpus.sh [BUILD_DIR]   (default: build)
set -eu
cd "$(dirname "$0")/../.."
mkmodel=${1:-build}/tools/dae-mkmodel
train=${1:-build}/tools/dae-train
corpus=tests/fuzz/corpus

mkdir -p "$corpus/model" "$corpus/processor" "$corpus/element"
"$mkmodel" --rate 8000 --window 16 --hop 8 --bands 2 --enc-dense 1 \
    --enc-gru 1 --bottleneck 1 --dec-gru 1 --seed 1 \
    -o "$corpus/model/tiny-8k.dae"
"$mkmodel" --rate 16000 --window 32 --hop 16 --bands 4 --enc-dense 2 \
    --enc-gru 3 --bottleneck 2 --dec-gru 3 --vad --threshold 0.5 --seed 2 \
    -o "$corpus/model/tiny-16k-vad.dae"
"$mkmodel" --rate 48000 --window 64 --hop 16 --bands 6 --enc-dense 4 \
    --enc-gru 4 --bottleneck 2 --dec-gru 4 --no-gain-skip --seed 3 \
    -o "$corpus/model/tiny-48k-no-skip.dae"
"$mkmodel" --rate 16000 --window 128 --hop 32 --bands 8 --enc-dense 8 \
    --enc-gru 8 --bottleneck 4 --dec-gru 8 --vad --seed 4 \
    -o "$corpus/model/small-16k.dae"
"$mkmodel" --rate 16000 --window 32 --hop 16 --bands 4 --enc-dense 2 \
    --enc-gru 3 --bottleneck 2 --dec-gru 3 --tonality --seed 5 \
    -o "$corpus/model/tiny-16k-tonality.dae"
# a gain scale (format 1.4)
"$mkmodel" --rate 16000 --window 32 --hop 16 --bands 4 --enc-dense 2 \
    --enc-gru 3 --bottleneck 2 --dec-gru 3 --vad --gain-scale 1.25 --seed 6 \
    -o "$corpus/model/tiny-16k-gain-scale.dae"
# 16-bit weights (format 1.3): the mean of one model is that model
"$train" average --weight-bits 16 -o "$corpus/model/small-16k-half.dae" \
    "$corpus/model/small-16k.dae" 2>/dev/null
head -c 200 "$corpus/model/tiny-8k.dae" > "$corpus/model/truncated-header.dae"

python3 - "$corpus" <<'PY'
import math
import struct
import sys

corpus = sys.argv[1]

def f32(*values):
    return b"".join(struct.pack("<f", v) for v in values)

def f64(v):
    return struct.pack("<d", v)

def write(name, data):
    with open(name, "wb") as out:
        out.write(data)

# fuzz-processor.c: model byte, then ops (op % 10):
# 0 limit <f64>, 1 mix <f64>, 2 process raw <hop f32>, 3 process signal
# <kind u8, level f32, period u8>, 4 analyze raw, 5 synthesize,
# 6 synthesize with gains <n_bands f32>, 7 reset, 8 stft, 9 stft reset
hop8 = 8
tiny = bytes([0])
tiny += bytes([2]) + f32(*[0.5 * math.sin(i) for i in range(hop8)])
tiny += bytes([0]) + f64(12.0) + bytes([1]) + f64(0.25)
tiny += bytes([3, 1]) + f32(1.0) + bytes([10])
tiny += bytes([4]) + f32(*[0.1] * hop8) + bytes([6]) + f32(1.0, 0.0)
tiny += bytes([5, 7, 5])
write(corpus + "/processor/tiny-ops", tiny)

hostile = bytes([1])
hostile += bytes([2]) + f32(float("nan"), float("inf"), -float("inf"),
                            1e-40, -1e-40, 3.4e38, -3.4e38, 0.0) * 2
hostile += bytes([3, 0]) + f32(1e30) + bytes([2])
hostile += bytes([3, 3]) + f32(1.0) + bytes([2])
hostile += bytes([0]) + f64(float("nan")) + bytes([1]) + f64(float("inf"))
hostile += bytes([0]) + f64(-0.0) + bytes([1]) + f64(5e-324)
hostile += bytes([4]) + f32(float("nan")) * 16
hostile += bytes([6]) + f32(float("nan"), 2.0, -1.0, float("inf"),
                            0.5, 0.0, 1.0, 1e-45)
write(corpus + "/processor/hostile-values", hostile)

default16 = bytes([2])
for kind in range(6):
    default16 += bytes([3, kind]) + f32(1.0) + bytes([40])
default16 += bytes([8]) + f32(*[0.25] * 160) + f32(*[1.0] * 16)
default16 += bytes([9, 7])
write(corpus + "/processor/default-16k-signals", default16)

vad48 = bytes([3]) + bytes([1]) + f64(0.5)
for kind in (1, 4, 5):
    vad48 += bytes([3, kind]) + f32(0.9) + bytes([7])
write(corpus + "/processor/vad-48k-square", vad48)

# model 5: 48 kHz with band tonality inputs
tonal48 = bytes([5])
for kind in range(6):
    tonal48 += bytes([3, kind]) + f32(0.7) + bytes([20])
tonal48 += bytes([2]) + f32(*[0.0] * 480) + bytes([7, 4]) + f32(*[1e-40] * 480)
tonal48 += bytes([5])
write(corpus + "/processor/tonality-48k-signals", tonal48)

# fuzz-element.c: caps byte (bit 0 S16, bits 1-3 channels - 1, bits 4-6
# rate: 7 = 44100, odd = 48000, else 16000), props byte, then ops (op % 16):
# 0-7 push <len u16, mode u8, flags u8, [data | kind u8 level u8]>,
# 8 property <which u8, value u8>, 9 caps <u8>, 10 flush, 11 eos + flush,
# 12 gap event <u8>, 13 segment <u8>, 14 latency query, 15 state cycle <u8>
def push(length, mode, flags, tail=b""):
    return bytes([0]) + struct.pack("<H", length) + bytes([mode, flags]) + tail

def signal(kind, level):
    return bytes([kind, level])

mono = bytes([0x00, 0x07])
for i in range(4):
    mono += push(400 + 37 * i, 1, 0, signal(3, 60))
mono += bytes([11]) + push(160, 1, 0, signal(2, 100))
write(corpus + "/element/f32-mono-16k", mono)

stereo = bytes([0x13, 0x3d])
stereo += push(1000, 1, 0, signal(1, 127))
stereo += bytes([8, 0, 128, 8, 1, 60, 8, 2, 0, 8, 4, 3])
stereo += push(500, 1, 1, signal(3, 30))           # DISCONT
stereo += push(500, 1, 2, signal(3, 30))           # GAP
stereo += push(300, 1, 2 << 2, signal(0, 64) + struct.pack("<H", 200))
stereo += push(300, 1, 3 << 2, signal(0, 64) + struct.pack("<H", 900))
stereo += push(300, 1, 1 << 2, signal(4, 0))       # no timestamp
stereo += push(1, 3, 0, signal(2, 50))             # one sample
stereo += bytes([10]) + push(700, 1, 0x20, signal(3, 40))
stereo += bytes([9, 0x0e]) + push(2000, 2, 0, signal(3, 90))
stereo += bytes([12, 0x01, 13, 0x01, 14])
stereo += push(999, 2, 0x80, signal(1, 1))         # partial sample
write(corpus + "/element/s16-stereo-48k-events", stereo)

refused = bytes([0x70, 0x00]) + push(480, 1, 0, signal(3, 50))
refused += bytes([9, 0x02]) + push(480, 1, 0, signal(3, 50))
refused += bytes([15, 0x1f]) + push(960, 1, 0, signal(2, 80)) + bytes([11])
write(corpus + "/element/refused-rate-then-cycle", refused)

raw = bytes([0x00, 0x02]) + push(32, 0x80 | 1, 0,
                                  f32(float("nan"), float("inf"), 1e-40,
                                      3e38) * 8)
raw += push(4096, 0x82, 0, b"\xff" * 64)
write(corpus + "/element/f32-raw-nonfinite", raw)
PY
ls -l "$corpus"/*
