#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, checks format
# and lints, runs every test against the real engines and models, then the
# benchmark (so its figures and target/bench/spine.json are always current).
# Everything builds once, in the dev profile (dependencies at opt-level 3),
# and is linted by clippy as it builds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Each phase's wall time, printed as it ends and as a table at the end, so a
# CI log says where the run's minutes went (CI has a 90-minute ceiling).
phase_name="setup"; phase_start=$SECONDS; phase_report=""
phase() {
  local took=$((SECONDS - phase_start))
  printf '==> %s took %d s\n' "$phase_name" "$took"
  phase_report+="$(printf '%6d s  %s' "$took" "$phase_name")"$'\n'
  phase_name="$1"; phase_start=$SECONDS
  [ "$phase_name" = end ] || echo "==> $phase_name"
}
trap 'phase end; printf "==> time per phase\n%s%6d s  total\n" "$phase_report" "$SECONDS"' EXIT

if [ ! -d ../shared/models ]; then
  echo "error: ../shared/models is missing; the tests need the real models beside the repository" >&2
  exit 1
fi
scripts/install-deps.sh
# A toolchain that install-deps.sh just put in place is not on this shell's PATH yet.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
scripts/fetch-gemma.sh
scripts/fetch-wake-features.sh
scripts/export-embedder.sh
scripts/clean-stale-links.sh

phase "cargo fmt --check"
cargo fmt --all --check
cargo fmt --manifest-path skills/builtin/Cargo.toml --all --check
phase "supply chain"
scripts/supply-chain.sh
# Clippy lints each workspace crate as it is compiled (clippy-driver as the
# workspace's rustc wrapper, which is how `cargo clippy` runs it too, here
# with full code generation): the dependencies compile once, for the tests
# and benches, instead of a second time in check mode only for the lints.
# Exported for every cargo call below, so none of them rebuilds the crates
# (after the supply chain: `cargo install cargo-deny` must not lint cargo-deny).
clippy_driver="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
phase "built-in skills (linted)"
cargo clippy --manifest-path skills/builtin/Cargo.toml --locked --target wasm32-unknown-unknown \
  --target-dir "${CARGO_TARGET_DIR:-target}/wasm-skills" -- -D warnings
phase "editor plugins (npm: type-check, bundle, unit tests, package)"
(cd plugins && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm test && npm run package)
phase "build and lint everything"
cargo test --workspace --locked --no-run
phase "cargo test"
cargo test --workspace --locked
phase "bench spine"
cargo run --locked --quiet --bin hauski-bench -- spine --runs 10 --update-readme README.md
phase "bench brain (3000 chunks; the README's table is the 100 000-chunk run)"
cargo run --locked --quiet --bin hauski-bench -- brain --chunks 3000 --runs 10 --out target/bench/brain-ci.json
phase "bench api"
cargo run --locked --quiet --bin hauski-bench -- api --runs 30 --update-readme README.md
phase "bench voice"
cargo run --locked --quiet --bin hauski-bench -- voice --runs 20 --update-readme README.md
phase "bench bus"
cargo run --locked --quiet --bin hauski-bench -- bus --runs 5 --update-readme README.md
phase "bench satellite"
cargo run --locked --quiet --bin hauski-bench -- satellite --runs 10 --update-readme README.md
phase "bench service"
cargo run --locked --quiet --bin hauski-bench -- service --runs 5 --update-readme README.md
phase "bench skills"
cargo run --locked --quiet --bin hauski-bench -- skills --runs 10 --update-readme README.md
phase "systemd units"
scripts/units-report.sh README.md
phase "budgets (policies/limits.yaml)"
cargo run --locked --quiet --bin hauski-bench -- check
