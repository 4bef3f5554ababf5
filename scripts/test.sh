#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, checks format
# and lints, runs every test against the real engines and models, then the
# benchmark (so its figures and target/bench/spine.json are always current).
# Everything builds once, in the dev profile (dependencies at opt-level 3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -d ../shared/models ]; then
  echo "error: ../shared/models is missing; the tests need the real models beside the repository" >&2
  exit 1
fi
scripts/install-deps.sh
# A toolchain that install-deps.sh just put in place is not on this shell's PATH yet.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
scripts/fetch-gemma.sh
scripts/clean-stale-links.sh

echo "==> cargo fmt --check"
cargo fmt --all --check
cargo fmt --manifest-path voice/wake-engine/Cargo.toml --check
cargo fmt --manifest-path skills/builtin/Cargo.toml --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --manifest-path voice/wake-engine/Cargo.toml --locked --target-dir "${CARGO_TARGET_DIR:-target}" -- -D warnings
cargo clippy --manifest-path skills/builtin/Cargo.toml --locked --target wasm32-unknown-unknown \
  --target-dir "${CARGO_TARGET_DIR:-target}/wasm-skills" -- -D warnings
echo "==> supply chain"
scripts/supply-chain.sh
echo "==> wake-word engine"
scripts/build-wake-engine.sh
echo "==> cargo test"
cargo test --workspace --locked
echo "==> bench"
cargo run --locked --quiet --bin hauski-bench -- spine --runs 10 --update-readme README.md
cargo run --locked --quiet --bin hauski-bench -- api --runs 30 --update-readme README.md
cargo run --locked --quiet --bin hauski-bench -- voice --runs 20 --update-readme README.md
cargo run --locked --quiet --bin hauski-bench -- bus --runs 5 --update-readme README.md
cargo run --locked --quiet --bin hauski-bench -- service --runs 5 --update-readme README.md
cargo run --locked --quiet --bin hauski-bench -- skills --runs 10 --update-readme README.md
echo "==> systemd units"
scripts/units-report.sh README.md
