#!/usr/bin/env bash
# HausKI's main job on a fresh Debian machine, with built-in defaults and no
# external server: install what is missing, build, then answer a recorded
# question aloud (VAD → Whisper → Gemma 3 270M → Piper) into recordings/answer.wav.
# Pass another recording as the first argument to ask your own question.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
# A toolchain that install-deps.sh just put in place is not on this shell's PATH yet.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
scripts/fetch-gemma.sh
scripts/fetch-wake-features.sh
scripts/export-embedder.sh
scripts/clean-stale-links.sh
input="${1:-../shared/models/audio/jfk.wav}"
cargo build --locked
./target/debug/hauski converse --input "$input" --output recordings/answer.wav
echo "==> play it: pw-play recordings/answer.wav (or aplay recordings/answer.wav)"
