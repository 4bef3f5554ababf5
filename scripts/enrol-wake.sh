#!/usr/bin/env bash
# Makes HausKI's own wake word, "hey hauski", from samples this script
# synthesises: the Piper voice at three paces and five espeak-ng voices at
# different speeds and pitches, some with background noise. Writes
# assets/wakeword/hey-hauski.rpw and its sha256 into models.yml.
#
# The wake-word tests use other variants (voices, speeds, pitches, noise)
# than these, so they measure detection on speech the reference never saw.
set -euo pipefail
cd "$(dirname "$0")/.."

hauski=${HAUSKI:-target/debug/hauski}
[[ -x $hauski ]] || { echo "error: $hauski is not built; run cargo build first" >&2; exit 1; }
samples=.models/wake-samples
rm -rf "$samples"
mkdir -p "$samples" assets/wakeword

# Piper (through HausKI's own TTS), three paces.
for rate in 0.9 1.0 1.1; do
    "$hauski" say "Hey Hauski." --rate "$rate" --output "$samples/piper-$rate.wav"
done
# espeak-ng: voice, words per minute, pitch.
while read -r voice speed pitch; do
    espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$samples/raw.wav" "hey hauski"
    sox "$samples/raw.wav" -r 16000 -c 1 -b 16 "$samples/espeak-$voice-$speed-$pitch.wav"
done <<'VOICES'
en-us 150 50
en 170 45
en-us+f3 140 60
en+m3 160 40
en-gb-x-rp 150 50
VOICES
rm -f "$samples/raw.wav"
# Two of them again with quiet pink noise, as a room would add.
for name in espeak-en-us-150-50 piper-1.0; do
    sox "$samples/$name.wav" -r 16000 -c 1 -b 16 "$samples/clean.wav"
    sox -n -r 16000 -c 1 -b 16 "$samples/noise.wav" synth "$(soxi -D "$samples/clean.wav")" pinknoise vol 0.02
    sox -m "$samples/clean.wav" "$samples/noise.wav" "$samples/$name-noisy.wav"
    rm -f "$samples/clean.wav" "$samples/noise.wav"
done

"$hauski" wake enrol --name hey-hauski --out assets/wakeword/hey-hauski.rpw "$samples"/*.wav
sum=$(sha256sum assets/wakeword/hey-hauski.rpw | cut -d' ' -f1)
# The sha256 line right after the hey-hauski entry's path.
sed -i "/path: wakeword\/hey-hauski.rpw/{n;s/sha256: .*/sha256: $sum/}" models.yml
echo "hey-hauski: sha256 $sum (models.yml updated)"
