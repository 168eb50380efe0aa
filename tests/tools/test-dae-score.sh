#!/bin/sh
# Tests the dae-score command line end to end; prints TAP.
#
# Usage: tests/tools/test-dae-score.sh PATH/TO/dae-score PATH/TO/dae-mkmodel
#                                      [PATH/TO/dae-train]
# Needs gst-launch-1.0 with audiotestsrc and wavenc (gstreamer1.0-tools,
# -plugins-base, -plugins-good) to make the synthetic WAV inputs and
# python3 to check the outputs; those tests are skipped without them.  With
# dae-train, a tiny anomaly model is trained and used end to end.
set -u

SCORE=${1:-${DAE_SCORE:-dae-score}}
MKMODEL=${2:-${DAE_MKMODEL:-dae-mkmodel}}
TRAIN=${3:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/test-dae-score.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
export OPENBLAS_NUM_THREADS=1
PY=$(command -v python3 || true)

. "$(dirname "$0")/tap.sh"
# check_grep DESCRIPTION PATTERN FILE
check_grep () {
  if grep -q -- "$2" "$3"; then
    ok "$1"
  else
    not_ok "$1" "$3"
  fi
}
# check_py DESCRIPTION PYTHON-CODE ARGS...  (the code exits 0 for ok)
check_py () {
  description=$1
  code=$2
  shift 2
  if [ -z "$PY" ]; then
    skip "$description" "no python3"
  elif "$PY" -c "$code" "$@" >"$TMP/py.out" 2>&1; then
    ok "$description"
  else
    not_ok "$description" "$TMP/py.out"
  fi
}

N_TESTS=39
echo "TAP version 13"
echo "1..$N_TESTS"

# --- usage -----------------------------------------------------------------
check_status "--help exits 0" 0 "$SCORE" --help
check_grep "--help documents --plot" "--plot" "$TMP/out"
check_grep "--help documents --denoise" "--denoise" "$TMP/out"
check_grep "--help defines the file score" "^File score" "$TMP/out"
check_status "--version exits 0" 0 "$SCORE" --version
check_status "no arguments is a usage error (exit 2)" 2 "$SCORE"
check_status "no input files is a usage error (exit 2)" 2 \
  "$SCORE" -m "$TMP/m.dae"
check_status "--csv with --json is a usage error (exit 2)" 2 \
  "$SCORE" -m "$TMP/m.dae" --csv --json a.wav
check_status "--plot with two inputs is a usage error (exit 2)" 2 \
  "$SCORE" -m "$TMP/m.dae" --plot "$TMP/p.svg" a.wav b.wav
check_status "--denoise with one argument is a usage error (exit 2)" 2 \
  "$SCORE" -m "$TMP/m.dae" --denoise a.wav
check_status "--top-fraction 0 is a usage error (exit 2)" 2 \
  "$SCORE" -m "$TMP/m.dae" --top-fraction 0 a.wav
check_status "an unknown --score is a usage error (exit 2)" 2 \
  "$SCORE" -m "$TMP/m.dae" --score median a.wav

# --- models ----------------------------------------------------------------
check_status "a missing model exits 1" 1 \
  "$SCORE" -m "$TMP/no-such-model.dae" a.wav
check_grep "the error names the missing model" "no-such-model.dae" "$TMP/out"
echo "not a model" >"$TMP/bad.dae"
check_status "a corrupt model exits 1" 1 "$SCORE" -m "$TMP/bad.dae" a.wav
check_grep "the error names the corrupt model" "bad.dae" "$TMP/out"

"$MKMODEL" --rate 16000 --seed 7 --threshold 1.0 --output "$TMP/m.dae" \
  >"$TMP/mk.out" 2>&1 || { cat "$TMP/mk.out"; echo "Bail out! dae-mkmodel"; exit 1; }

# --- audio -----------------------------------------------------------------
if ! command -v gst-launch-1.0 >/dev/null 2>&1 ||
    ! gst-launch-1.0 -q audiotestsrc num-buffers=1 ! wavenc ! \
      filesink location="$TMP/probe.wav" >/dev/null 2>&1; then
  while [ "$n" -lt "$N_TESTS" ]; do
    skip "scoring tests" "no gst-launch-1.0 with audiotestsrc/wavenc"
  done
  exit 0
fi
# 1 s of 16 kHz noise, 1.5 s of a 44.1 kHz stereo tone (resampled, downmixed)
gst-launch-1.0 -q audiotestsrc wave=pink-noise num-buffers=10 \
  samplesperbuffer=1600 ! audio/x-raw,rate=16000,channels=1 ! wavenc ! \
  filesink location="$TMP/noise.wav" >/dev/null 2>&1
gst-launch-1.0 -q audiotestsrc wave=sine freq=440 num-buffers=15 \
  samplesperbuffer=4410 ! audio/x-raw,rate=44100,channels=2 ! wavenc ! \
  filesink location="$TMP/tone.wav" >/dev/null 2>&1
echo "this is not audio" >"$TMP/broken.wav"

check_status "scoring two files exits 0" 0 \
  "$SCORE" -m "$TMP/m.dae" "$TMP/noise.wav" "$TMP/tone.wav"
check_py "the table has one line per file with a numeric score" '
import sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")
        and not l.startswith("file") and not l.startswith(" ")]
assert len(rows) == 2, rows
for r in rows:
    float(r[1])
' "$TMP/stdout"

# the directory holds broken.wav, which cannot be decoded: exit 1, the
# other files are still scored
check_status "--csv on a directory with an undecodable file exits 1" 1 \
  "$SCORE" -m "$TMP/m.dae" --csv "$TMP"
check_py "--csv: header and one row per decodable audio file" '
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = sorted(r["file"].rsplit("/", 1)[1] for r in rows)
assert names == ["noise.wav", "probe.wav", "tone.wav"], names
for r in rows:
    if r["file"].endswith("probe.wav"):
        # 1024 samples at 44.1 kHz: too short to score
        assert math.isnan(float(r["score"])), r
    else:
        assert float(r["score"]) >= 0 and int(r["frames"]) > 0, r
' "$TMP/stdout"
check_grep "an undecodable file is named on stderr" "broken.wav" "$TMP/stderr"
check_status "an undecodable file among good ones exits 1" 1 \
  "$SCORE" -m "$TMP/m.dae" --json "$TMP/broken.wav" "$TMP/noise.wav"
check_py "--json is valid and still scores the good file" '
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["threshold"] == 1.0, doc["threshold"]
files = doc["files"]
assert len(files) == 1 and files[0]["file"].endswith("noise.wav"), files
f = files[0]
assert f["frames"] == 100 and f["scored_frames"] == 98, f
# the default score: the mean of the top 1/16 of the band means
bands = sorted(f["band_means"], reverse=True)
assert len(bands) == 32 and abs(f["score"] - sum(bands[:2]) / 2) < 1e-4, f
assert f["score"] == f["bands_score"] >= f["mean_score"], f
assert f["max_score"] >= f["frames_score"] >= f["mean_score"], f
assert f["audio_seconds"] == 1.0 and f["cpu_seconds"] >= 0, f
' "$TMP/stdout"

check_status "--score frames exits 0" 0 \
  "$SCORE" -m "$TMP/m.dae" --json --score frames --top-fraction 0.5 \
  "$TMP/noise.wav"
check_py "--score frames: the mean of the top half of the frame scores" '
import json, sys
doc = json.load(open(sys.argv[1]))
f = doc["files"][0]
assert f["score"] == f["frames_score"], f
assert "50 % of the frame scores" in doc["score"], doc["score"]
' "$TMP/stdout"
check_status "--frames --csv --bands exits 0" 0 \
  "$SCORE" -m "$TMP/m.dae" --frames --csv --bands "$TMP/noise.wav"
check_py "--frames: one row per scored frame, 32 band columns" '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 98, len(rows)
assert len([k for k in rows[0] if k.startswith("band_")]) == 32
times = [float(r["time"]) for r in rows]
assert all(b > a for a, b in zip(times, times[1:]))
# frame 2: the window of 320 samples ending at sample 480, centre 0.02 s
assert rows[0]["frame"] == "2" and abs(times[0] - 0.02) < 1e-6, rows[0]
' "$TMP/stdout"

# --- plot ------------------------------------------------------------------
check_status "--plot exits 0" 0 \
  "$SCORE" -m "$TMP/m.dae" --threshold 0.5 --plot "$TMP/plot.svg" \
  "$TMP/noise.wav"
check_py "--plot writes a well-formed SVG with the panels and threshold" '
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith("svg"), root.tag
ns = "{http://www.w3.org/2000/svg}"
images = root.findall(ns + "image")
href = "{http://www.w3.org/1999/xlink}href"
assert len(images) == 2, images
assert all(i.get(href).startswith("data:image/png;base64,") for i in images)
assert root.find(ns + "polyline") is not None
text = " ".join(t.text or "" for t in root.iter(ns + "text"))
assert "threshold 0.5" in text and "Spectrogram" in text, text
' "$TMP/plot.svg"

# --- denoise ---------------------------------------------------------------
check_status "--denoise exits 0" 0 \
  "$SCORE" -m "$TMP/m.dae" --denoise "$TMP/tone.wav" "$TMP/out.wav"
check_py "--denoise writes mono 16 kHz WAV with as many samples as the input" '
import sys, wave
w = wave.open(sys.argv[1])
assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 16000, 2)
# 1.5 s at 44.1 kHz, resampled to 16 kHz
assert w.getnframes() == 24000, w.getnframes()
' "$TMP/out.wav"
check_status "--denoise --attenuation-limit 0 exits 0" 0 \
  "$SCORE" -m "$TMP/m.dae" --denoise --attenuation-limit 0 \
  "$TMP/noise.wav" "$TMP/same.wav"
check_py "--denoise compensates the latency: limit 0 gives back the input" '
import sys, wave, struct
def read(p):
    w = wave.open(p)
    return struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes()))
a, b = read(sys.argv[1]), read(sys.argv[2])
assert len(a) == len(b) == 16000, (len(a), len(b))
assert max(abs(x - y) for x, y in zip(a, b)) <= 2
' "$TMP/noise.wav" "$TMP/same.wav"
"$SCORE" -m "$TMP/m.dae" --denoise --float "$TMP/noise.wav" \
  "$TMP/float.wav" 2>"$TMP/float.out"
"$SCORE" -m "$TMP/m.dae" --denoise "$TMP/noise.wav" "$TMP/int8.wav" \
  2>"$TMP/int8.out"
check_grep "--denoise --float says it ran a float network" "float network" \
  "$TMP/float.out"
if grep -q "8-bit network" "$TMP/int8.out"; then
  DIFFER=1
else
  DIFFER=0    # no int8 kernel on this CPU: the default is float
fi
check_py "--float and the default agree within 8-bit rounding (30 dB), and differ if the default is 8-bit" '
import sys, wave, struct, math
def read(p):
    w = wave.open(p)
    return struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes()))
a, b = read(sys.argv[1]), read(sys.argv[2])
assert len(a) == len(b) == 16000, (len(a), len(b))
d = sum((x - y) ** 2 for x, y in zip(a, b))
s = sum(x * x for x in a)
if sys.argv[3] == "1":
    assert d > 0, "identical"
assert d == 0 or 10 * math.log10(s / d) > 30, 10 * math.log10(s / d)
' "$TMP/float.wav" "$TMP/int8.wav" "$DIFFER"
check_status "--float without --denoise works too (scores)" 0 \
  "$SCORE" -m "$TMP/m.dae" --float "$TMP/noise.wav"

# --- a trained anomaly model -----------------------------------------------
if [ -z "$TRAIN" ]; then
  skip "tiny anomaly training" "no dae-train given"
  skip "--info states the expected false alarms" "no dae-train given"
  skip "a different sound scores higher and raises an anomaly" \
    "no dae-train given"
  [ "$failed" -eq 0 ]
  exit
fi
mkdir -p "$TMP/normal"
for f in 100 101 102; do
  gst-launch-1.0 -q audiotestsrc wave=sine freq=$f num-buffers=40 \
    samplesperbuffer=1600 ! audio/x-raw,rate=16000,channels=1 ! wavenc ! \
    filesink location="$TMP/normal/hum-$f.wav" >/dev/null 2>&1
done
check_status "tiny anomaly training" 0 \
  "$TRAIN" anomaly --normal "$TMP/normal" -o "$TMP/a.dae" --epochs 3 \
  --steps-per-epoch 4 --batch-size 4 --sequence-frames 20 --bands 32 \
  --enc-dense 16 --enc-gru 16 --bottleneck 8 --dec-gru 16 \
  --validation-sequences 2 --validation-fraction 0.3 --threads 1 --seed 3
"$TRAIN" --info "$TMP/a.dae" >"$TMP/info.out" 2>&1
check_grep "--info states the expected false alarms" \
  "^false alarms: .* per hour" "$TMP/info.out"
"$SCORE" -m "$TMP/a.dae" --json "$TMP/normal/hum-101.wav" "$TMP/noise.wav" \
  >"$TMP/a.json" 2>"$TMP/a.err"
check_py "a different sound scores higher and raises an anomaly" '
import json, sys
files = json.load(open(sys.argv[1]))["files"]
hum, noise = files
assert noise["score"] > 2 * hum["score"], (hum["score"], noise["score"])
assert len(noise["anomalies"]) >= 1, noise
' "$TMP/a.json"

[ "$failed" -eq 0 ]
