#!/usr/bin/env bash
# The release artifacts, from a checkout: an optimised build (Cargo.toml's
# [profile.release]), laid out by `hauski install` itself, as
#   target/dist/hauski-VERSION-x86_64-linux.tar.gz  a relocatable tree: bin/hauski and
#       lib/hauski/; unpack anywhere and run bin/hauski install [--user|--system]
#   target/dist/hauski_VERSION_amd64.deb            the same layout under /usr
#   target/dist/hauski-VERSION.cdx.json             CycloneDX SBOM of every crate
# Takes about 25 minutes on 2 cores (a second, optimised build of the engines).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/fetch-wake-features.sh
scripts/export-embedder.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
scripts/clean-stale-links.sh

echo "==> release build"
cargo build --release --locked --bin hauski
version="$(target/release/hauski --version | awk '{print $2}')"
dist=target/dist
name="hauski-$version-x86_64-linux"
rm -rf "$dist" && mkdir -p "$dist"

echo "==> tarball"
target/release/hauski install --prefix "$PWD/$dist/$name" --no-enable
# The staged tree is a bundle, not an install: its units and manifest name
# the staging paths. `bin/hauski install` writes fresh ones where it goes.
rm -rf "$dist/$name/share/systemd" "$dist/$name/lib/hauski/install-manifest.txt"
mkdir -p "$dist/$name/share/doc/hauski"
cp README.md LICENSES.md ARCHITECTURE.md "$dist/$name/share/doc/hauski/"
tar -C "$dist" -czf "$dist/$name.tar.gz" "$name"

echo "==> SBOM"
cdx_version=0.5.9
if ! cargo cyclonedx --version 2>/dev/null | grep -q "$cdx_version"; then
  cargo install --locked --quiet "cargo-cyclonedx@$cdx_version"
fi
cargo cyclonedx --format json --spec-version 1.5 --target x86_64-unknown-linux-gnu
sbom="$dist/hauski-$version.cdx.json"
mv hauski.cdx.json "$sbom"
rm -f audio/hauski-audio.cdx.json voice/hauski-voice.cdx.json brain/hauski-brain.cdx.json \
  onnxruntime/hauski-onnxruntime.cdx.json skills/hauski-skills.cdx.json skills/words/hauski-words.cdx.json
# The crates are cargo's; the C/C++ libraries the tarball carries or links
# are added here, with the versions this build used (see LICENSES.md).
llama_version="$(sed -n 's/^name = "llama-cpp-sys-2"/&/p;/^name = "llama-cpp-sys-2"/{n;s/version = "\(.*\)"/\1/p}' Cargo.lock | tail -n1)"
ort_version="$(.venv/bin/python -c 'import onnxruntime; print(onnxruntime.__version__)')"
espeak_version="$(dpkg-query -W -f '${Version}' libespeak-ng1)"
pipewire_version="$(dpkg-query -W -f '${Version}' libpipewire-0.3-0)"
python3 - "$sbom" "$llama_version" "$ort_version" "$espeak_version" "$pipewire_version" <<'PY'
import json, sys
path, llama, ort, espeak, pipewire = sys.argv[1:]
bom = json.load(open(path))
def lib(name, version, licence, how):
    return {"type": "library", "bom-ref": f"native:{name}@{version}", "name": name, "version": version,
            "licenses": [{"expression": licence}], "description": how}
bom["components"] += [
    lib("llama.cpp+ggml", f"llama-cpp-sys-2 {llama}", "MIT", "built from source by llama-cpp-sys-2; shipped in lib/hauski"),
    lib("whisper.cpp", "vendor/whisper-rs-sys", "MIT", "built from the vendored source against that ggml; linked statically"),
    lib("onnxruntime", ort, "MIT", "from the PyPI wheel; shipped in lib/hauski"),
    lib("espeak-ng", espeak, "GPL-3.0-or-later", "Debian libespeak-ng1; linked dynamically"),
    lib("pipewire", pipewire, "MIT", "Debian libpipewire-0.3-0; linked dynamically"),
]
json.dump(bom, open(path, "w"), indent=2)
print(f"SBOM: {len(bom['components'])} components")
PY

echo "==> .deb"
deb="$dist/deb"
target/release/hauski install --system --prefix /usr --destdir "$PWD/$deb"
mkdir -p "$deb/DEBIAN" "$deb/usr/share/doc/hauski"
cp LICENSES.md "$deb/usr/share/doc/hauski/copyright"
cat > "$deb/DEBIAN/control" <<CONTROL
Package: hauski
Version: $version
Architecture: amd64
Maintainer: HausKI developers <hauski@invalid>
Depends: libc6, libstdc++6, libgomp1, libespeak-ng1, libpipewire-0.3-0, pipewire, wireplumber
Section: sound
Priority: optional
Description: voice-first, offline home audio assistant
 HausKI hears a question, thinks with a local LLM and answers aloud
 (webrtc-vad, whisper.cpp, llama.cpp, Piper). Runs as a systemd user
 service: systemctl --user enable --now hauski.service
CONTROL
dpkg-deb --root-owner-group --build "$deb" "$dist/hauski_${version}_amd64.deb" >/dev/null
rm -rf "$deb"
ls -la "$dist"
