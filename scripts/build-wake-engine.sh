#!/usr/bin/env bash
# Builds hauski-wake (rustpotter; its own workspace, see voice/wake-engine/Cargo.toml)
# into the same target dir as the daemon, where `hauski` finds it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --locked --quiet --manifest-path voice/wake-engine/Cargo.toml --target-dir "${CARGO_TARGET_DIR:-target}"
