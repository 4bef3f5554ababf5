#!/usr/bin/env bash
# Writes all-MiniLM-L6-v2 as an ONNX graph (.models/embed/all-MiniLM-L6-v2/model.onnx)
# from the shipped safetensors, for the embedder on ONNX Runtime (faster here than
# candle; ARCHITECTURE.md, "Retrieval over notes"). The graph is built node by
# node (scripts/export-minilm-onnx.py), checked against a numpy forward pass,
# its weight products quantised to int8 by ONNX Runtime's quantiser (the venv's
# pinned onnxruntime, so the bytes are the same every time), checked again, and
# its checksum compared with models.yml's. Skips the work when the file is there
# and right.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want=b872c34532f9689dcd710ac011849e47c61074bd6ee484f33e4aba6f303fb078
src="${HAUSKI_SHARED_MODELS:-$here/../shared/models}/embed/all-MiniLM-L6-v2"
dest="$here/.models/embed/all-MiniLM-L6-v2/model.onnx"
[ -f "$dest" ] && echo "$want  $dest" | sha256sum --check --quiet >/dev/null 2>&1 && exit 0
if [ ! -f "$src/model.safetensors" ]; then
  echo "error: $src/model.safetensors is missing; the embedder's weights come from ../shared/models" >&2
  exit 1
fi
python="${HAUSKI_VENV:-$here/.venv}/bin/python"
echo "==> writing the embedding model as int8 ONNX (59 MB) from $src"
"$python" "$here/scripts/export-minilm-onnx.py" "$src" "$dest" --int8 --check
if ! echo "$want  $dest" | sha256sum --check --quiet; then
  echo "error: $dest does not have the checksum models.yml names (another onnx package version?)" >&2
  rm -f "$dest"
  exit 1
fi
