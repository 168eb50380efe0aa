#!/bin/sh
# Regenerates noisy-speech-16k.wav, the bundled sample the README's demo
# denoises: an evaluation speaker (Italian asterisk prompts, never used in
# training) mixed with pink noise and a 50 Hz hum at about 5 dB SNR.
# Needs: asterisk-core-sounds-it-g722, ffmpeg, sox.
set -eu
cd "$(dirname "$0")"
dir=/usr/share/asterisk/sounds/it_IT_m_Carlo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
for p in vm-intro vm-nomore hello-world; do
  ffmpeg -loglevel error -f g722 -i "$dir/$p.g722" -ar 16000 -ac 1 "$tmp/$i.wav"
  i=$((i + 1))
done
sox "$tmp/0.wav" "$tmp/1.wav" "$tmp/2.wav" "$tmp/speech.wav" norm -3
len=$(soxi -D "$tmp/speech.wav")
sox -R -n -r 16000 -c 1 "$tmp/pink.wav" synth "$len" pinknoise vol 0.12
sox -R -n -r 16000 -c 1 "$tmp/hum.wav" synth "$len" sine 50 vol 0.05
sox -m -v 1 "$tmp/speech.wav" -v 1 "$tmp/pink.wav" -v 1 "$tmp/hum.wav" -b 16 noisy-speech-16k.wav
soxi noisy-speech-16k.wav
