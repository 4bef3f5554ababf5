#!/usr/bin/env bash
# Writes all-MiniLM-L6-v2 as an ONNX graph (.models/embed/all-MiniLM-L6-v2/model.onnx)
# from the shipped safetensors, for the embedder on ONNX Runtime (faster here than
# candle; ARCHITECTURE.md, "Retrieval over notes"). The graph is built node by
# node (scripts/export-minilm-onnx.py), checked against a numpy forward pass,
# and its checksum against models.yml's. Skips the work when the file is there
# and right.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want=168c0b471edc6eac53896c79bfba9bf9faae371463bb7c7bf6cfe191ebbf03f4
src="${HAUSKI_SHARED_MODELS:-$here/../shared/models}/embed/all-MiniLM-L6-v2"
dest="$here/.models/embed/all-MiniLM-L6-v2/model.onnx"
[ -f "$dest" ] && echo "$want  $dest" | sha256sum --check --quiet 2>/dev/null && exit 0
if [ ! -f "$src/model.safetensors" ]; then
  echo "error: $src/model.safetensors is missing; the embedder's weights come from ../shared/models" >&2
  exit 1
fi
python="${HAUSKI_VENV:-$here/.venv}/bin/python"
echo "==> writing the embedding model as ONNX (90 MB) from $src"
"$python" "$here/scripts/export-minilm-onnx.py" "$src" "$dest" --check
if ! echo "$want  $dest" | sha256sum --check --quiet; then
  echo "error: $dest does not have the checksum models.yml names (another onnx package version?)" >&2
  rm -f "$dest"
  exit 1
fi
