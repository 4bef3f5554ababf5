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
scripts/fetch-gemma.sh
scripts/clean-stale-links.sh

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked
echo "==> bench"
cargo run --locked --quiet -- bench --runs 10 --update-readme README.md
